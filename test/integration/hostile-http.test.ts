// Hostile and malformed HTTP against a running berth: refused clearly, nothing reaches an
// upstream that should not, and everyone else is still served.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSyncedBerth, type RunningBerth } from '../support/berth.js';
import { rawExchange } from '../support/raw.js';

/** An upstream that records what reached it and echoes it back as JSON. */
async function recordingUpstream() {
  const seen: Array<{ url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url, headers: req.headers, body }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { seen, port: (server.address() as AddressInfo).port, close: () => server.close() };
}

describe('hostile HTTP', () => {
  let berth: RunningBerth;
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  let folder: string;

  before(async () => {
    upstream = await recordingUpstream();
    folder = await mkdtemp(join(tmpdir(), 'berth-hostile-'));
    const to = `http://127.0.0.1:${upstream.port}`;
    await writeFile(
      join(folder, 'routes.yml'),
      ['routes:', `  - host: app.test`, `    to: ${to}`, `  - host: app.test`, `    path: /api`, `    to: ${to}/backend`, `    strip-prefix: true`].join('\n') + '\n',
    );
    berth = await startSyncedBerth(['--no-docker', '--routes-file', join(folder, 'routes.yml'), '--header-timeout', '1s', '--request-timeout', '1500ms', '--access-log=false']);
  });
  after(async () => {
    await berth?.stop();
    upstream?.close();
    await rm(folder, { recursive: true, force: true });
  });

  const send = (raw: string | Buffer, options?: { waitMs?: number }) => rawExchange(berth.proxyPort, [raw], options);
  const stillServing = async () => assert.equal((await berth.request('app.test', '/ok')).status, 200, 'berth still serves a normal request');

  const smuggling: Record<string, string> = {
    'Content-Length with Transfer-Encoding': 'POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'two Content-Length headers': 'POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde',
    'a Content-Length list': 'POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 4, 4\r\n\r\nabcd',
    'a signed Content-Length': 'POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: +4\r\n\r\nabcd',
    'a Transfer-Encoding not ending in chunked': 'POST / HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
    'a misspelt Transfer-Encoding': 'POST / HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n',
    'a space before the colon': 'POST / HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n',
    'an invalid chunk size': 'POST / HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
    'an overflowing chunk size': 'POST / HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n',
    'an obs-fold header': 'GET / HTTP/1.1\r\nHost: app.test\r\nX-A: b\r\n c\r\n\r\n',
    'bare LF line endings': 'GET / HTTP/1.1\nHost: app.test\n\n',
    'a bare LF inside the headers': 'GET / HTTP/1.1\r\nHost: app.test\nX-Smuggled: y\r\n\r\n',
    'two Host headers': 'GET / HTTP/1.1\r\nHost: app.test\r\nHost: evil.test\r\n\r\n',
    'no Host header': 'GET / HTTP/1.1\r\n\r\n',
    'an absolute-form target naming another host': 'GET http://evil.test/ HTTP/1.1\r\nHost: app.test\r\n\r\n',
  };
  for (const [shape, raw] of Object.entries(smuggling)) {
    it(`refuses ${shape} with 400, and the upstream never sees it`, async () => {
      const before = upstream.seen.length;
      const reply = await send(raw);
      assert.equal(reply.status, 400, reply.text.slice(0, 200));
      assert.equal(upstream.seen.length, before);
      await stillServing();
    });
  }

  it('routes an absolute-form target by its authority when it agrees with Host', async () => {
    const reply = await send('GET http://app.test/api/x?q=1 HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
    assert.equal(reply.status, 200);
    assert.equal(upstream.seen.at(-1)?.url, '/backend/x?q=1');
  });

  it('answers 414 to an oversized request line and 431 to oversized headers, closing the connection', async () => {
    const longLine = await send(`GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: app.test\r\n\r\n`);
    assert.deepEqual([longLine.status, longLine.closed], [414, true]);
    const longTarget = await send(`GET /${'a'.repeat(9_000)} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`);
    assert.equal(longTarget.status, 414);
    const bigHeaders = await send(`GET / HTTP/1.1\r\nHost: app.test\r\n${Array.from({ length: 40 }, (_, i) => `X-Filler-${i}: ${'b'.repeat(500)}\r\n`).join('')}\r\n`);
    assert.deepEqual([bigHeaders.status, bigHeaders.closed], [431, true]);
    await stillServing();
  });

  it('answers 400 to garbage and to a TLS hello on the HTTP port', async () => {
    const tlsHello = Buffer.from('16030100a5010000a10303' + '00'.repeat(64), 'hex');
    for (const bytes of [tlsHello, Buffer.from('\x00\x01\x02\xff\xfe garbage\r\n\r\n', 'latin1'), Buffer.from('GET\r\n\r\n')]) {
      const reply = await send(bytes);
      assert.deepEqual([reply.status, reply.closed], [400, true]);
    }
    await stillServing();
  });

  it('sends the upstream the path it routed on, whatever the dot segments, slashes and escapes', async () => {
    const cases: Array<[string, string]> = [
      ['/api/../secret', '/secret'],
      ['/api/%2e%2e/secret', '/secret'],
      ['/api/x/%2E%2E/y', '/backend/y'],
      ['//api//v1', '/backend/v1'],
      ['/apiary', '/apiary'],
      ['/api', '/backend/'],
      ['/./api/./v2', '/backend/v2'],
    ];
    for (const [sent, received] of cases) {
      const response = await berth.request('app.test', sent);
      assert.equal(response.status, 200, sent);
      assert.equal(JSON.parse(response.body).url, received, sent);
    }
    assert.equal((await berth.request('app.test', '/api/../../etc/passwd')).status, 400);
    assert.equal((await berth.request('app.test', '/api%2f..%2fsecret')).status, 400, 'an encoded slash is refused by default');
  });

  it('replaces spoofed forwarding headers from an untrusted client, even when Connection names them', async () => {
    const response = await berth.request('app.test', '/who', {
      headers: {
        'x-forwarded-for': '6.6.6.6',
        'x-forwarded-host': 'evil.test',
        'x-forwarded-proto': 'https',
        'x-forwarded-port': '443',
        'x-real-ip': '6.6.6.6',
        forwarded: 'for=6.6.6.6;proto=https',
        connection: 'x-forwarded-for, x-request-id, x-real-ip',
      },
    });
    const { headers } = JSON.parse(response.body) as { headers: Record<string, string> };
    assert.equal(headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(headers['x-forwarded-host'], 'app.test');
    assert.equal(headers['x-forwarded-proto'], 'http');
    assert.equal(headers['x-forwarded-port'], String(berth.proxyPort));
    assert.equal(headers['x-real-ip'], '127.0.0.1');
    assert.equal(headers['forwarded'], undefined);
    assert.match(headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
  });

  it('closes slowloris connections after the header timeout while serving everyone else', async () => {
    const slow = Array.from({ length: 100 }, () =>
      rawExchange(berth.proxyPort, ['GET / HTTP/1.1\r\n', 'Host: app.test\r\n', 'X-Slow: 1\r\n', 'X-Slow: 2\r\n', 'X-Slow: 3\r\n', 'X-Slow: 4\r\n'], { gapMs: 700, waitMs: 6000 }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (let i = 0; i < 20; i++) await stillServing();
    const replies = await Promise.all(slow);
    assert.ok(replies.every((reply) => reply.closed), 'every slow client was cut off');
    assert.ok(replies.every((reply) => reply.status === 0 || reply.status === 408), 'none was served');
  });

  it('cuts off a client that sends its body too slowly', async () => {
    const before = upstream.seen.length;
    const started = Date.now();
    const reply = await rawExchange(berth.proxyPort, ['POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: 10\r\n\r\n', 'a', 'b', 'c', 'd', 'e', 'f'], { gapMs: 600, waitMs: 6000 });
    assert.equal(reply.closed, true);
    assert.ok(Date.now() - started < 5000, 'cut off by the request timeout, not by the test');
    assert.equal(upstream.seen.slice(before).filter((r) => r.url === '/upload' && r.body.length === 10).length, 0, 'no complete upload reached the upstream');
    await stillServing();
  });
});
