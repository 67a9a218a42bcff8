// HTTPS with --workers 2: the primary alone holds certificates and orders them, the workers serve.
// Pebble validates http-01 and tls-alpn-01 against the workers' listeners (the primary listens on
// neither port), every worker serves verified HTTPS, and a certificate dropped in the folder reaches
// them all.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBerth, type RunningBerth } from '../support/berth.js';
import { getHttps, within } from '../support/https.js';
import { Pebble } from '../support/pebble.js';
import { freeLoopbackPort } from '../support/ports.js';
import { fixturePath } from '../support/repo.js';

async function origin() {
  const server = http.createServer((_req, res) => res.end('from the origin'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

/** `count` verified requests, each on a new connection; every one must be a 200 from the origin. */
async function severalConnections(port: number, host: string, ca: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const answer = await getHttps(port, host, ca);
    assert.deepEqual([answer.status, answer.body], [200, 'from the origin'], `connection ${i}`);
  }
}

/** Which workers logged a served request for `host`. */
function workersThatServed(berth: RunningBerth, host: string): Set<unknown> {
  return new Set(berth.logs.filter((line) => line.msg === 'request' && line['host'] === host && line['status'] === 200).map((line) => line['worker']));
}

/** Every order succeeded at its first try, without going on before a worker held the challenge answer. */
function orderedAtFirstTry(berth: RunningBerth): void {
  const failures = berth.logs.filter((line) => line['code'] === 'BERTH_E_ACME_ORDER' || line.msg.startsWith('not every worker holds'));
  assert.deepEqual(failures, []);
}

/** berth --workers 2 with Pebble offering one challenge type, validated on the listener that type uses. */
async function startWithWorkers(challenge: 'http-01' | 'tls-alpn-01', routes: string[]) {
  const [httpPort, httpsPort, nowhere] = await Promise.all([freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort()]);
  // The other challenge's port points at nothing: only the listener of this one can answer.
  const pebble = await Pebble.start(challenge === 'http-01' ? { httpPort, tlsPort: nowhere } : { httpPort: nowhere, tlsPort: httpsPort });
  const folder = await mkdtemp(join(tmpdir(), 'berth-https-workers-'));
  await mkdir(join(folder, 'certs'));
  await writeFile(join(folder, 'routes.yml'), ['routes:', ...routes].join('\n') + '\n');
  const berth = await startBerth(
    [
      '--workers', '2',
      '--no-docker',
      '--http-port', String(httpPort),
      '--https-port', String(httpsPort),
      '--routes-file', join(folder, 'routes.yml'),
      '--certs-dir', join(folder, 'certs'),
      ...pebble.berthArgs(join(folder, 'storage')),
      '--acme-challenges', challenge,
    ],
    pebble.berthEnv(),
  );
  return { pebble, folder, berth, httpPort, httpsPort, root: await pebble.root() };
}

describe('HTTPS with --workers 2 over http-01', () => {
  let up: Awaited<ReturnType<typeof startWithWorkers>>;
  let upstream: Awaited<ReturnType<typeof origin>>;

  before(async () => {
    upstream = await origin();
    const to = `    to: http://127.0.0.1:${upstream.port}`;
    up = await startWithWorkers('http-01', ['  - host: one.berth.test', to, '    tls: true', '  - host: chained.test', to, '    tls: { redirect: false }']);
  });
  after(async () => {
    await up?.berth.stop();
    await up?.pebble.stop();
    upstream?.close();
    if (up) await rm(up.folder, { recursive: true, force: true });
  });

  it('reports the HTTPS port the workers listen on', async () => {
    // The line follows the proxy's, which is all startBerth waits for.
    const { value: line } = await within(2_000, async () => up.berth.logs.find((l) => l.msg === 'listening' && l['listener'] === 'https') ?? Promise.reject(new Error('no line yet')));
    assert.equal(line['port'], up.httpsPort);
  });

  it('obtains a certificate over http-01 answered by the workers, serves it verified from every worker, and lists it in the primary', async () => {
    await within(30_000, () => getHttps(up.httpsPort, 'one.berth.test', up.root));
    await severalConnections(up.httpsPort, 'one.berth.test', up.root, 20);
    await within(2_000, async () => assert.ok(workersThatServed(up.berth, 'one.berth.test').size === 2, 'both workers served'));
    orderedAtFirstTry(up.berth);
    const { certificates } = await up.berth.admin<{ certificates: Array<{ host: string; source: string }> }>('/api/certificates');
    assert.equal(certificates.find((c) => c.host === 'one.berth.test')?.source, 'acme');
    const metrics = await (await fetch(`http://127.0.0.1:${up.berth.adminPort}/metrics`)).text();
    assert.match(metrics, /berth_certificate_expiry_seconds\{host="one.berth.test",source="acme"\} \d+/);
  });

  it('serves a certificate dropped in the folder from every worker within two seconds', async () => {
    // Only the folder's certificate chains to this root: a 200 means it, not ACME's, was served.
    const ca = await readFile(fixturePath('certs/root-ca.pem'), 'utf8');
    await copyFile(fixturePath('certs/chained.key'), join(up.folder, 'certs', 'chained.key'));
    await copyFile(fixturePath('certs/chained.crt'), join(up.folder, 'certs', 'chained.crt'));
    const { ms } = await within(5_000, () => severalConnections(up.httpsPort, 'chained.test', ca, 6));
    assert.ok(ms < 2000, `every worker served it after ${Math.round(ms)} ms`);
    await severalConnections(up.httpsPort, 'chained.test', ca, 10);
    await within(2_000, async () => assert.ok(workersThatServed(up.berth, 'chained.test').size === 2, 'both workers served'));
  });
});

describe('HTTPS with --workers 2 over tls-alpn-01', () => {
  it('obtains a certificate validated on the workers\' HTTPS listener and serves it from every worker', async () => {
    const upstream = await origin();
    const up = await startWithWorkers('tls-alpn-01', ['  - host: alpn.berth.test', `    to: http://127.0.0.1:${upstream.port}`, '    tls: true']);
    try {
      await within(30_000, () => getHttps(up.httpsPort, 'alpn.berth.test', up.root));
      await severalConnections(up.httpsPort, 'alpn.berth.test', up.root, 20);
      await within(2_000, async () => assert.ok(workersThatServed(up.berth, 'alpn.berth.test').size === 2, 'both workers served'));
      orderedAtFirstTry(up.berth);
    } finally {
      await up.berth.stop();
      await up.pebble.stop();
      upstream.close();
      await rm(up.folder, { recursive: true, force: true });
    }
  });
});
