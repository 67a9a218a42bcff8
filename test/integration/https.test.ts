// HTTPS end to end: berth orders certificates from a real Pebble on loopback (http-01 and
// tls-alpn-01 validated against berth's own listeners), serves a labelled container over verified
// HTTP/1.1 and HTTP/2, redirects plain HTTP, adds HSTS, serves the folder's certificates, strips
// connection headers for HTTP/2, and reuses its storage after a restart.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { startBerth, type RunningBerth } from '../support/berth.js';
import { cleanup, runHttpd, uniqueName } from '../support/docker.js';
import { busyboxImage } from '../support/images.js';
import { getHttps, within, type HttpsAnswer } from '../support/https.js';
import { Pebble } from '../support/pebble.js';
import { freeLoopbackPort } from '../support/ports.js';
import { fixturePath } from '../support/repo.js';

type Answer = HttpsAnswer;

/** A verified HTTPS request over HTTP/2. */
function getHttp2(port: number, host: string, ca: string, path = '/'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://${host}:${port}`, { ca, servername: host, lookup: (_name, _options, done) => done(null, [{ address: '127.0.0.1', family: 4 }] as never, 4) });
    session.on('error', reject);
    const stream = session.request({ ':path': path });
    let body = '';
    let headers: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => (headers = h));
    stream.setEncoding('utf8').on('data', (chunk) => (body += chunk));
    stream.on('end', () => {
      session.close();
      resolve({ status: Number(headers[':status']), headers: headers as http.IncomingHttpHeaders, body, alpn: session.alpnProtocol ?? false });
    });
    stream.on('error', reject);
  });
}

function getPlain(port: number, host: string, path = '/'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' }));
    }).on('error', reject);
  });
}

/** An origin that answers with the connection-specific headers an HTTP/2 response must not carry. */
async function hopHeavyOrigin() {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nUpgrade: h2,h2c\r\nProxy-Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nConnection: Upgrade, Keep-Alive\r\nContent-Length: 2\r\n\r\nok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

describe('HTTPS with certificates from ACME and from a folder', () => {
  let pebble: Pebble;
  let root: string;
  let berth: RunningBerth;
  let httpPort: number;
  let httpsPort: number;
  let folder: string;
  let hop: Awaited<ReturnType<typeof hopHeavyOrigin>>;
  let image: string;
  const args = () => [
    '--http-port', String(httpPort),
    '--https-port', String(httpsPort),
    '--routes-file', join(folder, 'routes.yml'),
    '--certs-dir', join(folder, 'certs'),
    ...pebble.berthArgs(join(folder, 'storage')),
  ];
  const env = () => pebble.berthEnv();

  before(async () => {
    image = await busyboxImage();
    [httpPort, httpsPort] = await Promise.all([freeLoopbackPort(), freeLoopbackPort()]);
    pebble = await Pebble.start({ httpPort, tlsPort: httpsPort });
    root = await pebble.root();
    hop = await hopHeavyOrigin();
    folder = await mkdtemp(join(tmpdir(), 'berth-https-'));
    await mkdir(join(folder, 'certs'));
    const routes = [
      'routes:',
      '  - host: file.berth.test',
      `    to: http://127.0.0.1:${hop.port}`,
      '    tls: true',
      '    hsts: "31536000; includeSubDomains"',
      '  - host: hop.berth.test',
      `    to: http://127.0.0.1:${hop.port}`,
      '    tls: true',
      '  - host: chained.test',
      `    to: http://127.0.0.1:${hop.port}`,
      '    tls: { redirect: false }',
    ];
    await writeFile(join(folder, 'routes.yml'), routes.join('\n') + '\n');
    berth = await startBerth(args(), env());
  });
  after(async () => {
    await berth?.stop();
    await cleanup();
    await pebble?.stop();
    hop?.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('obtains a certificate over http-01 for a file route and serves it verified, with HSTS', async () => {
    const { value: answer } = await within(30_000, () => getHttps(httpsPort, 'file.berth.test', root));
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
    assert.equal(answer.alpn, 'http/1.1');
  });

  it('serves a container labelled berth.tls=true over verified HTTPS a few seconds after docker run', async () => {
    const host = `${uniqueName('web')}.berth.test`;
    const started = performance.now();
    await runHttpd({ image, body: 'hello over tls', labels: { 'berth.port': '80', 'berth.host': host, 'berth.tls': 'true' } });
    const { value: answer } = await within(30_000, () => getHttps(httpsPort, host, root));
    const ms = performance.now() - started;
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'hello over tls');
    const overHttp2 = await getHttp2(httpsPort, host, root);
    assert.deepEqual([overHttp2.status, overHttp2.body, overHttp2.alpn], [200, 'hello over tls', 'h2']);
    console.log(`# docker run -> first verified HTTPS 200: ${Math.round(ms)} ms`);
  });

  it('redirects plain HTTP to HTTPS with a 308, keeping path and query, unless the route opts out', async () => {
    const redirected = await getPlain(httpPort, 'file.berth.test', '/a/b?c=1');
    assert.equal(redirected.status, 308);
    assert.equal(redirected.headers.location, `https://file.berth.test:${httpsPort}/a/b?c=1`);
    assert.equal((await getPlain(httpPort, 'chained.test')).status, 200);
  });

  it('strips connection-specific response headers for an HTTP/2 client', async () => {
    await within(30_000, () => getHttps(httpsPort, 'hop.berth.test', root));
    const answer = await getHttp2(httpsPort, 'hop.berth.test', root);
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'ok');
    for (const name of ['upgrade', 'proxy-connection', 'keep-alive', 'connection']) assert.equal(answer.headers[name], undefined, name);
  });

  it('serves a certificate put in the certificates folder, picked by SNI, within a second', async () => {
    // Only the folder's certificate chains to this root: a 200 means it, not ACME's, was served.
    const ca = await readFile(fixturePath('certs/root-ca.pem'), 'utf8');
    await copyFile(fixturePath('certs/chained.key'), join(folder, 'certs', 'chained.key'));
    await copyFile(fixturePath('certs/chained.crt'), join(folder, 'certs', 'chained.crt'));
    const { value: answer, ms } = await within(5_000, () => getHttps(httpsPort, 'chained.test', ca));
    assert.equal(answer.status, 200);
    assert.ok(ms < 2000, `served after ${Math.round(ms)} ms`);
  });

  it('gives a client that sends no server name the default certificate, and plain HTTP on the HTTPS port a 400 that says so', async () => {
    const subject = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: httpsPort, rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => {
        resolve(String(socket.getPeerCertificate().subject?.CN));
        socket.end();
      });
      socket.on('error', reject);
    });
    assert.equal(subject, 'berth-default');
    const plain = await getPlain(httpsPort, 'file.berth.test');
    assert.equal(plain.status, 400);
  });

  it('lists its certificates in /api/certificates and as an expiry metric', async () => {
    const { certificates } = await berth.admin<{ certificates: Array<{ host: string; source: string }> }>('/api/certificates');
    assert.equal(certificates.find((c) => c.host === 'file.berth.test')?.source, 'acme');
    const metrics = await (await fetch(`http://127.0.0.1:${berth.adminPort}/metrics`)).text();
    assert.match(metrics, /berth_certificate_expiry_seconds\{host="file.berth.test",source="acme"\} \d+/);
  });

  it('reuses the stored certificates after a restart instead of ordering again', async () => {
    await berth.stop();
    berth = await startBerth(args(), env());
    const answer = await within(5_000, () => getHttps(httpsPort, 'file.berth.test', root));
    assert.equal(answer.value.status, 200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.ok(!berth.logs.some((line) => line.msg === 'ordering certificate'), 'no new order');
  });
});

describe('HTTPS with tls-alpn-01', () => {
  it('obtains a certificate when only tls-alpn-01 is offered, validated on the HTTPS listener', async () => {
    const [httpPort, httpsPort] = await Promise.all([freeLoopbackPort(), freeLoopbackPort()]);
    // Pebble's http-01 port points at nothing: only the TLS listener can answer.
    const pebble = await Pebble.start({ httpPort: await freeLoopbackPort(), tlsPort: httpsPort });
    const folder = await mkdtemp(join(tmpdir(), 'berth-alpn-'));
    let berth: RunningBerth | undefined;
    try {
      const origin = await hopHeavyOrigin();
      await writeFile(join(folder, 'routes.yml'), `routes:\n  - host: alpn.berth.test\n    to: http://127.0.0.1:${origin.port}\n    tls: true\n`);
      berth = await startBerth(
        ['--no-docker', '--http-port', String(httpPort), '--https-port', String(httpsPort), '--routes-file', join(folder, 'routes.yml'), ...pebble.berthArgs(join(folder, 'storage')), '--acme-challenges', 'tls-alpn-01'],
        pebble.berthEnv(),
      );
      const root = await pebble.root();
      const { value: answer } = await within(30_000, () => getHttps(httpsPort, 'alpn.berth.test', root));
      assert.equal(answer.status, 200);
      origin.close();
    } finally {
      await berth?.stop();
      await pebble.stop();
      await rm(folder, { recursive: true, force: true });
    }
  });
});
