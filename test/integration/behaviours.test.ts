// Per-route behaviours through real requests: allow lists, rate limits, basic auth with each hash
// kind, header edits both ways, body limits (announced and streamed), compression, WebSockets
// under auth, and a labelled container whose auth cannot be read staying closed.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import bcrypt from 'bcryptjs';
import WebSocket from 'ws';
import { startSyncedBerth, type RunningBerth } from '../support/berth.js';
import { cleanup, runHttpd, uniqueName } from '../support/docker.js';
import { waitFor } from '../support/wait.js';
import { busyboxImage } from '../support/images.js';
import { converse } from '../support/raw.js';
import { berthWithRoutes } from '../support/routed-berth.js';

const BCRYPT = bcrypt.hashSync('secret', 4);
const APR1 = '$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0'; // openssl passwd -apr1 -salt saltsalt secret
const SHA = '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ='; // {SHA} of "secret"
const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

/** An origin that echoes what reached it, with a big text body on /big and a response header to remove. */
async function echoOrigin() {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'text/plain', etag: '"v1"' });
        return res.end('berth '.repeat(2000));
      }
      if (req.url === '/as-is') {
        res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-transform' });
        return res.end('berth '.repeat(2000));
      }
      const json = JSON.stringify({ url: req.url, headers: req.headers, length: body.length });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), 'x-powered-by': 'origin' });
      res.end(json);
    });
  });
  server.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

function get(port: number, host: string, path = '/', headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { host, ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** An auth service: a good X-Token passes with Remote-User; anything else is sent to log in. */
async function authService() {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    if (req.headers['x-token'] === 'good') {
      res.writeHead(200, { 'remote-user': 'alice' });
      return res.end();
    }
    res.writeHead(302, { location: 'https://login.test/?next=' + encodeURIComponent(String(req.headers['x-forwarded-uri'])) });
    res.end('go log in');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { seen, port: (server.address() as AddressInfo).port, close: () => server.close() };
}

describe('per-route behaviours', () => {
  let origin: Awaited<ReturnType<typeof echoOrigin>>;
  let auth: Awaited<ReturnType<typeof authService>>;
  let berth: RunningBerth;
  let folder: string;

  before(async () => {
    origin = await echoOrigin();
    auth = await authService();
    folder = await mkdtemp(join(tmpdir(), 'berth-behaviours-'));
    const to = `http://127.0.0.1:${origin.port}`;
    const routes = `routes:
  - host: denied.test
    to: ${to}
    allow: 10.0.0.0/8
  - host: allowed.test
    to: ${to}
    allow: [10.0.0.0/8, 127.0.0.1]
  - host: limited.test
    to: ${to}
    rate-limit: 2/m
  - host: private.test
    to: ${to}
    auth.basic: "alice:${BCRYPT},bob:${APR1},carol:${SHA}"
    auth.basic.realm: staff
  - host: forwarded.test
    to: ${to}
    auth.basic: "carol:${SHA}"
    auth.basic.forward: true
  - host: headers.test
    to: ${to}
    headers:
      request: { X-Added: yes, User-Agent: "" }
      response: { X-Frame-Options: DENY, X-Powered-By: "" }
  - host: small.test
    to: ${to}
    max-body: 1kb
  - host: zip.test
    to: ${to}
    compress: true
  - host: sso.test
    to: ${to}
    auth.forward: http://127.0.0.1:${auth.port}/verify
    auth.forward.headers: Remote-User
  - host: sso-down.test
    to: ${to}
    auth.forward: http://127.0.0.1:1/verify
`;
    await writeFile(join(folder, 'routes.yml'), routes);
    berth = await startSyncedBerth(['--routes-file', join(folder, 'routes.yml'), '--no-docker']);
  });
  after(async () => {
    await berth?.stop();
    origin?.close();
    auth?.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('asks the auth service first: its refusal goes to the client as it is, its 2xx lets the request through with the headers it names', async () => {
    const refused = await get(berth.proxyPort, 'sso.test', '/account?tab=1', { 'x-forwarded-user': 'mallory' });
    assert.equal(refused.status, 302);
    assert.equal(refused.headers.location, 'https://login.test/?next=%2Faccount%3Ftab%3D1');
    assert.equal(refused.body.toString(), 'go log in');
    const asked = auth.seen.at(-1)!;
    assert.deepEqual([asked['x-forwarded-method'], asked['x-forwarded-uri'], asked['x-forwarded-host'], asked['x-forwarded-proto']], ['GET', '/account?tab=1', 'sso.test', 'http']);
    assert.equal(asked['x-forwarded-user'], undefined, "a client's own X-Forwarded-User never reaches the auth service");
    // The service judges the path the upstream will get, not the raw target: /public/../admin is /admin to both.
    await get(berth.proxyPort, 'sso.test', '/public/../admin?x=1');
    assert.equal(auth.seen.at(-1)!['x-forwarded-uri'], '/admin?x=1');
    const passed = await get(berth.proxyPort, 'sso.test', '/account', { 'x-token': 'good', 'remote-user': 'mallory' });
    assert.equal(passed.status, 200);
    assert.equal(JSON.parse(passed.body.toString()).headers['remote-user'], 'alice');
  });

  it('fails closed with 502 when the auth service cannot be asked', async () => {
    const answer = await get(berth.proxyPort, 'sso-down.test');
    assert.equal(answer.status, 502);
    assert.match(answer.body.toString(), /BERTH_E_AUTH_UNREACHABLE/);
  });

  it('answers 403 to an address outside the allow list and serves one inside it', async () => {
    const denied = await get(berth.proxyPort, 'denied.test');
    assert.equal(denied.status, 403);
    assert.match(denied.body.toString(), /BERTH_E_REQUEST_DENIED/);
    assert.equal((await get(berth.proxyPort, 'allowed.test')).status, 200);
  });

  it('answers 429 with Retry-After once a client spends its rate', async () => {
    const statuses = [];
    let retryAfter: string | string[] | undefined;
    for (let i = 0; i < 3; i++) {
      const answer = await get(berth.proxyPort, 'limited.test');
      statuses.push(answer.status);
      retryAfter ??= answer.headers['retry-after'];
    }
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.ok(Number(retryAfter) >= 1, `Retry-After ${String(retryAfter)}`);
  });

  it('asks for a password with its realm, takes bcrypt, apr1 and SHA1 entries, and keeps Authorization from the upstream', async () => {
    const none = await get(berth.proxyPort, 'private.test');
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Basic realm="staff", charset="UTF-8"');
    assert.equal((await get(berth.proxyPort, 'private.test', '/', { authorization: basic('alice', 'wrong') })).status, 401);
    for (const user of ['alice', 'bob', 'carol']) {
      const answer = await get(berth.proxyPort, 'private.test', '/', { authorization: basic(user, 'secret') });
      assert.equal(answer.status, 200, user);
      assert.equal(JSON.parse(answer.body.toString()).headers.authorization, undefined, `${user}'s Authorization stays with berth`);
    }
    const forwarded = await get(berth.proxyPort, 'forwarded.test', '/', { authorization: basic('carol', 'secret') });
    assert.equal(JSON.parse(forwarded.body.toString()).headers.authorization, basic('carol', 'secret'));
  });

  it('asks a WebSocket for a password too', async () => {
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${berth.proxyPort}/`, { headers: { host: 'private.test' } });
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('error', () => resolve(0));
      socket.on('open', () => resolve(101));
    });
    assert.equal(status, 401);
  });

  it('sets and removes request and response headers', async () => {
    const answer = await get(berth.proxyPort, 'headers.test', '/', { 'user-agent': 'curl/8' });
    const seen = JSON.parse(answer.body.toString()).headers;
    assert.equal(seen['x-added'], 'yes');
    assert.equal(seen['user-agent'], undefined);
    assert.equal(answer.headers['x-frame-options'], 'DENY');
    assert.equal(answer.headers['x-powered-by'], undefined);
  });

  it('answers 413 to a body over the limit, announced or streamed, and passes one under it', async () => {
    assert.equal((await get(berth.proxyPort, 'small.test', '/', { 'content-type': 'text/plain' }, 'POST', 'x'.repeat(100))).status, 200);
    assert.equal((await get(berth.proxyPort, 'small.test', '/', { 'content-length': '2000' }, 'POST', 'x'.repeat(2000))).status, 413);
    const chunked = `POST / HTTP/1.1\r\nHost: small.test\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n${'x'.repeat(1024)}\r\n400\r\n${'x'.repeat(1024)}\r\n0\r\n\r\n`;
    const { responses } = await converse(berth.proxyPort, chunked, ['POST']);
    assert.equal(responses[0]?.status, 413);
  });

  it('compresses text with brotli or gzip as the client accepts, and leaves small or unasked answers alone', async () => {
    const br = await get(berth.proxyPort, 'zip.test', '/big', { 'accept-encoding': 'gzip, br' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(zlib.brotliDecompressSync(br.body).toString(), 'berth '.repeat(2000));
    assert.equal(br.headers['etag'], 'W/"v1"');
    assert.match(String(br.headers['vary']), /Accept-Encoding/);
    const gzip = await get(berth.proxyPort, 'zip.test', '/big', { 'accept-encoding': 'gzip' });
    assert.equal(zlib.gunzipSync(gzip.body).toString(), 'berth '.repeat(2000));
    const plain = await get(berth.proxyPort, 'zip.test', '/big');
    assert.equal(plain.headers['content-encoding'], undefined);
    const small = await get(berth.proxyPort, 'zip.test', '/', { 'accept-encoding': 'gzip' });
    assert.equal(small.headers['content-encoding'], undefined);
    const asIs = await get(berth.proxyPort, 'zip.test', '/as-is', { 'accept-encoding': 'gzip' });
    assert.equal(asIs.headers['content-encoding'], undefined, 'Cache-Control: no-transform is kept as sent');
  });
});

/** Two origins that say who they are; `slow` holds /slow for a while. */
async function namedOrigins() {
  const make = (name: string) =>
    http.createServer((req, res) => {
      const answer = () => res.end(name);
      if (req.url === '/slow') setTimeout(answer, 600);
      else answer();
    });
  const servers = [make('a'), make('b')];
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))));
  return { ports: servers.map((server) => (server.address() as AddressInfo).port), close: () => servers.forEach((server) => server.close()) };
}

describe('load balancing', () => {
  let origins: Awaited<ReturnType<typeof namedOrigins>>;
  let routed: Awaited<ReturnType<typeof berthWithRoutes>>;
  before(async () => {
    origins = await namedOrigins();
    const to = `[${origins.ports.map((port) => `http://127.0.0.1:${port}`).join(', ')}]`;
    routed = await berthWithRoutes(`routes:\n  - host: sticky.test\n    to: ${to}\n    sticky: true\n  - host: least.test\n    to: ${to}\n    lb: least-conn\n`);
  });
  after(async () => {
    await routed?.stop();
    origins?.close();
  });

  it('pins a client to one endpoint with a cookie on a sticky route', async () => {
    const first = await get(routed.berth.proxyPort, 'sticky.test');
    const cookie = String(first.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
    assert.match(cookie, /^berth_sticky=[\w-]+$/);
    const served = new Set<string>();
    for (let i = 0; i < 6; i++) served.add((await get(routed.berth.proxyPort, 'sticky.test', '/', { cookie })).body.toString());
    assert.deepEqual([...served], [first.body.toString()]);
  });

  it('sends a request to the endpoint with the fewest in flight on a least-conn route', async () => {
    const slow = get(routed.berth.proxyPort, 'least.test', '/slow');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const others = [];
    for (let i = 0; i < 4; i++) others.push((await get(routed.berth.proxyPort, 'least.test')).body.toString());
    const busy = (await slow).body.toString();
    assert.ok(others.every((name) => name !== busy), `${busy} was busy, yet served ${others.join(', ')}`);
  });
});

describe('per-route behaviours from container labels', () => {
  let image: string;
  let berth: RunningBerth;
  before(async () => {
    image = await busyboxImage();
    berth = await startSyncedBerth([]);
  });
  after(async () => {
    await berth?.stop();
    await cleanup();
  });

  it('serves a labelled container behind basic auth, $$ as compose writes it', async () => {
    const host = `${uniqueName('auth')}.test`;
    await runHttpd({ image, body: 'secret page', labels: { 'berth.port': '80', 'berth.host': host, 'berth.auth.basic': `carol:${SHA}`, 'berth.headers.response.X-Frame-Options': 'DENY' } });
    await waitFor(async () => (await get(berth.proxyPort, host)).status === 401, { what: `${host} asking for a password` });
    // Auth answers before the container's httpd may listen: wait for the page itself.
    const answer = await waitFor(async () => {
      const page = await get(berth.proxyPort, host, '/', { authorization: basic('carol', 'secret') });
      return page.status === 200 && page;
    }, { what: `${host} serving carol` });
    assert.deepEqual([answer.status, answer.body.toString(), answer.headers['x-frame-options']], [200, 'secret page', 'DENY']);
    const compose = `${uniqueName('compose')}.test`;
    await runHttpd({ image, labels: { 'berth.port': '80', 'berth.host': compose, 'berth.auth.basic': `bob:${APR1.replace(/\$/g, '$$$$')}` } });
    await waitFor(async () => (await get(berth.proxyPort, compose, '/', { authorization: basic('bob', 'secret') })).status === 200, { what: `${compose} letting bob in` });
  });

  it("answers with the redirect a container's labels ask for, path and query kept, without a port", async () => {
    const host = `${uniqueName('moved')}.test`;
    await runHttpd({ image, labels: { 'berth.host': host, 'berth.redirect': 'https://new.example.test', 'berth.redirect-code': '308' } });
    const answer = await waitFor(async () => {
      const got = await get(berth.proxyPort, host, '/a/b?c=1');
      return got.status === 308 && got;
    }, { what: `${host} redirecting` });
    assert.equal(answer.headers.location, 'https://new.example.test/a/b?c=1');
  });

  it('applies allow lists, rate limits, body limits and compression given as container labels', async () => {
    const name = uniqueName('labelled');
    const [denied, limited, small, zipped] = ['denied', 'limited', 'small', 'zipped'].map((part) => `${part}-${name}.test`);
    await runHttpd({ image, labels: { 'berth.port': '80', 'berth.host': denied!, 'berth.allow': '10.0.0.0/8' } });
    await runHttpd({ image, labels: { 'berth.port': '80', 'berth.host': limited!, 'berth.rate-limit': '1/m' } });
    await runHttpd({ image, labels: { 'berth.port': '80', 'berth.host': small!, 'berth.max-body': '10' } });
    await runHttpd({ image, files: { 'big.txt': 'berth '.repeat(500) }, labels: { 'berth.port': '80', 'berth.host': zipped!, 'berth.compress': 'true' } });
    const routed = async (host: string) => waitFor(async () => (await get(berth.proxyPort, host)).status !== 404, { what: `${host} routed` });
    await Promise.all([denied!, small!, zipped!].map(routed));
    assert.equal((await get(berth.proxyPort, denied!)).status, 403);
    await waitFor(async () => (await get(berth.proxyPort, limited!)).status === 429, { what: `${limited} limiting` });
    assert.equal((await get(berth.proxyPort, small!, '/', { 'content-length': '100' }, 'POST', 'x'.repeat(100))).status, 413);
    const big = await waitFor(async () => {
      const got = await get(berth.proxyPort, zipped!, '/big.txt', { 'accept-encoding': 'gzip' });
      return got.status === 200 && got;
    }, { what: `${zipped} serving big.txt` });
    assert.equal(big.headers['content-encoding'], 'gzip');
    assert.equal(zlib.gunzipSync(big.body).toString(), 'berth '.repeat(500));
  });

  it('keeps a container whose auth label cannot be read closed with 503, never open', async () => {
    const host = `${uniqueName('closed')}.test`;
    await runHttpd({ image, labels: { 'berth.port': '80', 'berth.host': host, 'berth.auth.basic': 'not-a-user-list' } });
    await waitFor(async () => (await get(berth.proxyPort, host)).status !== 404, { what: `${host} routed` });
    const answer = await get(berth.proxyPort, host);
    assert.equal(answer.status, 503);
    assert.match(answer.body.toString(), /BERTH_E_ROUTE_CLOSED/);
  });
});
