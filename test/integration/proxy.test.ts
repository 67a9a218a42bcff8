// The proxy listener against real upstream servers on loopback (no Docker needed).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseAddressList } from '../../src/config/cidr.js';
import type { RequestRecord } from '../../src/proxy/observer.js';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.js';
import { RouteStore } from '../../src/routes/store.js';
import type { Endpoint, RouteSpec } from '../../src/routes/types.js';
import { request } from '../support/berth.js';

/** An upstream that answers with JSON describing what it received. */
function echoServer(name: string, extraHeaders: Record<string, string> = {}): http.Server {
  return http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', ...extraHeaders });
      res.end(JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, body }));
    });
  });
}

async function listen(server: http.Server | net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A port on which nothing listens. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function trusted(ranges: string) {
  const parsed = parseAddressList(ranges);
  assert.ok(parsed.ok);
  return parsed.value;
}

function endpoint(key: string, port: number, overrides: Partial<Endpoint> = {}): Endpoint {
  return { key, scheme: 'http', address: '127.0.0.1', port, ready: true, stripPrefix: false, ...overrides };
}

function spec(host: string | null, path: string, target: Endpoint): RouteSpec {
  return { host, path, endpoint: target, source: 'docker' };
}

describe('the proxy listener', () => {
  const store = new RouteStore(['file', 'docker']);
  const servers: Array<http.Server | net.Server> = [];
  let proxy: ProxyServer;
  let port: number;
  const records: RequestRecord[] = [];
  const get = (host: string, path = '/', headers: Record<string, string> = {}, method = 'GET') =>
    request({ port, path, method, headers: { host, ...headers }, timeoutMs: 5000 });

  before(async () => {
    const alpha = echoServer('alpha', { connection: 'x-internal', 'x-internal': 'secret', 'keep-alive': 'timeout=5' });
    const beta = echoServer('beta');
    const hung = net.createServer(() => {}); // accepts, never answers
    const resetting = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    servers.push(alpha, beta, hung, resetting);
    const [alphaPort, betaPort, hungPort, resetPort, deadPort] = [await listen(alpha), await listen(beta), await listen(hung), await listen(resetting), await closedPort()];
    store.update('docker', [
      spec('alpha.test', '/', endpoint('alpha', alphaPort)),
      spec('alpha.test', '/api', endpoint('alpha-api', alphaPort, { stripPrefix: true })),
      spec('flaky.test', '/', endpoint('a-dead', deadPort)),
      spec('flaky.test', '/', endpoint('b-beta', betaPort)),
      spec('dead.test', '/', endpoint('dead', deadPort)),
      spec('hung.test', '/', endpoint('hung', hungPort)),
      spec('reset.test', '/', endpoint('reset', resetPort)),
      spec('down.test', '/', endpoint('down', betaPort, { ready: false, notReadyReason: 'health check failing' })),
      spec('*.wild.test', '/', endpoint('wild', betaPort)),
    ]);
    proxy = createProxyServer({
      store,
      logger: pino({ level: 'silent' }),
      trustedProxies: trusted('10.0.0.0/8'),
      connectTimeoutMs: 1000,
      upstreamTimeoutMs: 300,
      allowEncoded: new Set(),
      keepUnderscoreHeaders: false,
      observer: { request: (record) => records.push(record), upstreamError() {}, retry() {}, connections() {}, websockets() {} },
      headerTimeoutMs: 2000,
      requestTimeoutMs: 2000,
      idleTimeoutMs: 2000,
      websocketIdleMs: 2000,
    });
    port = await listen(proxy.server);
  });

  after(async () => {
    await proxy.shutdown(100);
    for (const server of servers) server.close();
  });

  it('forwards with the Host header kept and X-Forwarded-* set', async () => {
    const seen = JSON.parse((await get('Alpha.Test:8080', '/x?y=1')).body);
    assert.equal(seen.name, 'alpha');
    assert.equal(seen.url, '/x?y=1');
    assert.equal(seen.headers.host, 'Alpha.Test:8080');
    assert.equal(seen.headers['x-forwarded-host'], 'Alpha.Test:8080');
    assert.equal(seen.headers['x-forwarded-port'], String(port));
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('strips hop-by-hop headers both ways, including those a Connection header names', async () => {
    const response = await get('alpha.test', '/', { connection: 'keep-alive, x-hop, x-forwarded-for', 'x-hop': '1', 'keep-alive': 'timeout=9', te: 'trailers' });
    const seen = JSON.parse(response.body);
    assert.equal(seen.headers['x-hop'], undefined);
    assert.equal(seen.headers['keep-alive'], undefined);
    assert.equal(seen.headers['te'], undefined);
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'berth\'s own header survives being named');
    assert.equal(response.headers['x-internal'], undefined);
    assert.notEqual(response.headers['keep-alive'], 'timeout=5', "the upstream's Keep-Alive is not relayed (Node states berth's own)");
  });

  it('forwards the path it routed on: dot segments are resolved before matching', async () => {
    const seen = JSON.parse((await get('alpha.test', '/api/../admin')).body);
    assert.equal(seen.url, '/admin', 'routed to / and forwarded as /admin, not to the /api route');
    const stripped = JSON.parse((await get('alpha.test', '/api/v1/%2e%2e/v2?q=1')).body);
    assert.equal(stripped.url, '/v2?q=1');
    assert.equal((await get('alpha.test', '/../etc')).status, 400);
  });

  it('matches a wildcard host for any subdomain but not the bare domain', async () => {
    assert.equal((await get('a.b.wild.test')).status, 200);
    assert.equal((await get('wild.test')).status, 404);
  });

  it('retries a refused bodiless request once on another endpoint', async () => {
    for (let i = 0; i < 4; i++) {
      const response = await get('flaky.test');
      assert.equal(response.status, 200);
      assert.equal(JSON.parse(response.body).name, 'beta');
    }
  });

  it('does not replay a request with a body: 502 when its upstream refuses', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) {
      statuses.push(
        await new Promise<number>((resolve, reject) => {
          const req = http.request({ port, method: 'POST', path: '/', headers: { host: 'flaky.test', 'content-type': 'text/plain' }, agent: false }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end('payload');
        }),
      );
    }
    assert.deepEqual(statuses.sort(), [200, 502], 'one went to beta, the other met the dead endpoint');
  });

  it('answers 502 when the only upstream refuses, 503 when none is ready, 504 when it hangs', async () => {
    assert.equal((await get('dead.test')).status, 502);
    const unavailable = await get('down.test');
    assert.equal(unavailable.status, 503);
    assert.match(unavailable.body, /No ready endpoint/);
    assert.equal(unavailable.headers['retry-after'], '5');
    await new Promise((resolve) => setImmediate(resolve));
    const record = records.findLast((r) => r.host === 'down.test');
    assert.deepEqual([record?.routeHost, record?.status, record?.code], ['down.test', 503, 'BERTH_E_NO_ENDPOINT'], 'counted under the route that matched');
    assert.equal((await get('hung.test')).status, 504);
  });

  it('cuts the client connection when the upstream resets mid-response', async () => {
    await assert.rejects(get('reset.test'), /aborted|socket hang up|ECONNRESET/);
    assert.equal((await get('alpha.test')).status, 200, 'berth keeps serving');
  });

  it('refuses ambiguous framing (Content-Length with Transfer-Encoding) with 400', async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end('POST / HTTP/1.1\r\nHost: alpha.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
      });
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
    });
    assert.match(reply, /^HTTP\/1\.1 400 /);
  });

  it('answers 431 to oversized headers and keeps serving', async () => {
    const response = await get('alpha.test', '/', { 'x-big': 'a'.repeat(20_000) });
    assert.equal(response.status, 431);
    assert.equal((await get('alpha.test')).status, 200);
  });
});
