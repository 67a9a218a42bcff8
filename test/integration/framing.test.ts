// Differential framing: every request a client sends through berth is compared with what a
// strict origin really parsed off the wire. One request in, exactly one request out, framed
// as berth decided; refused requests reach nothing; nothing after a bodiless head leaks.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalTarget } from '../../src/routes/path.js';
import { startSyncedBerth, type RunningBerth } from '../support/berth.js';
import { converse } from '../support/raw.js';
import { header, startRecordingOrigin, type RecordedRequest, type RecordingOrigin } from '../support/recording-origin.js';

const METHODS = ['GET', 'HEAD', 'DELETE', 'OPTIONS', 'POST', 'PUT', 'PATCH'] as const;
const BODIES = ['none', 'length', 'chunked', 'zero-length'] as const;
type Body = (typeof BODIES)[number];
const PAYLOAD = 'GET /smuggled HTTP/1.1\r\nHost: internal.x\r\n\r\n';

interface Sent {
  readonly id: string;
  readonly method: string;
  readonly body: Body;
  readonly bytes: string;
}

/** One request with a test id, a body framed as asked and `extraHeaders` filler lines. */
function build(method: string, body: Body, id: string, extraHeaders = 0, path = '/'): Sent {
  const filler = Array.from({ length: extraHeaders }, (_, i) => `X-F${i}: ${i}\r\n`).join('');
  const head = `${method} ${path} HTTP/1.1\r\nHost: echo.test\r\nX-Test-Id: ${id}\r\n${filler}`;
  const framed: Record<Body, string> = {
    none: '\r\n',
    length: `Content-Length: ${PAYLOAD.length}\r\n\r\n${PAYLOAD}`,
    chunked: `Transfer-Encoding: chunked\r\n\r\n${(20).toString(16)}\r\n${PAYLOAD.slice(0, 20)}\r\n${(PAYLOAD.length - 20).toString(16)}\r\n${PAYLOAD.slice(20)}\r\n0\r\n\r\n`,
    'zero-length': 'Content-Length: 0\r\n\r\n',
  };
  return { id, method, body, bytes: head + framed[body] };
}

/** What the origin must have parsed for a forwarded request. */
function assertForwardedAsSent(seen: RecordedRequest | undefined, sent: Sent): void {
  assert.ok(seen, `${sent.id}: the origin received it`);
  assert.equal(seen.method, sent.method, sent.id);
  const hasBody = sent.body === 'length' || sent.body === 'chunked';
  assert.equal(seen.body, hasBody ? PAYLOAD : '', `${sent.id}: the body arrived whole, as a body`);
  const expected = sent.body === 'chunked' ? 'chunked' : sent.body === 'length' ? 'length' : ['POST', 'PUT', 'PATCH'].includes(sent.method) ? 'length' : 'none';
  assert.equal(seen.framing, expected, `${sent.id}: framed as berth decided`);
  if (expected === 'length' && !hasBody) assert.equal(header(seen, 'content-length'), '0');
  assert.equal(header(seen, 'expect'), undefined);
}

describe('differential framing through berth', () => {
  let origin: RecordingOrigin;
  let berth: RunningBerth;
  let folder: string;

  before(async () => {
    origin = await startRecordingOrigin();
    folder = await mkdtemp(join(tmpdir(), 'berth-framing-'));
    const to = `http://127.0.0.1:${origin.port}`;
    const routes = [
      'routes:',
      '  - host: echo.test',
      `    to: ${to}`,
      '  - host: echo.test',
      '    path: /public',
      `    to: ${to}`,
      '  - host: echo.test',
      '    path: /status',
      `    to: ${to}/health`,
      '    strip-prefix: true',
    ];
    await writeFile(join(folder, 'routes.yml'), routes.join('\n') + '\n');
    berth = await startSyncedBerth(['--no-docker', '--routes-file', join(folder, 'routes.yml'), '--access-log=false']);
  });
  after(async () => {
    await berth?.stop();
    await origin?.close();
    await rm(folder, { recursive: true, force: true });
  });
  beforeEach(() => {
    origin.requests.length = 0;
    origin.garbage.length = 0;
  });

  const byId = (id: string) => origin.requests.filter((request) => header(request, 'x-test-id') === id);
  const assertNothingElse = (expectedCount: number) => {
    assert.deepEqual(origin.garbage, [], 'no bytes the origin could not parse');
    assert.ok(!origin.requests.some((request) => request.target === '/smuggled'), 'no smuggled request');
    assert.equal(origin.requests.length, expectedCount, 'exactly the routed requests');
  };

  it('sends a chunked DELETE as one chunked DELETE, never its body as a second request', async () => {
    const raw = 'DELETE / HTTP/1.1\r\nHost: echo.test\r\nTransfer-Encoding: chunked\r\n\r\n2c\r\nGET /smuggled HTTP/1.1\r\nHost: internal.x\r\n\r\n\r\n0\r\n\r\n';
    const { responses } = await converse(berth.proxyPort, raw, ['DELETE']);
    assert.equal(responses[0]?.status, 200);
    // A second request on the pooled connection would be parsed now; give it the chance.
    await converse(berth.proxyPort, build('GET', 'none', 'after').bytes, ['GET']);
    assert.equal(origin.requests[0]?.method, 'DELETE');
    assert.equal(origin.requests[0]?.framing, 'chunked');
    assert.equal(origin.requests[0]?.body, 'GET /smuggled HTTP/1.1\r\nHost: internal.x\r\n\r\n');
    assertNothingElse(2);
  });

  it('refuses a request whose Content-Length is its 2001st header with 431 and forwards nothing', async () => {
    const raw = build('GET', 'length', 'hidden', 1999).bytes;
    const { responses } = await converse(berth.proxyPort, raw, ['GET']);
    assert.equal(responses[0]?.status, 431);
    await converse(berth.proxyPort, build('GET', 'none', 'after').bytes, ['GET']);
    assertNothingElse(1);
  });

  it('forwards a request with 100 header lines and refuses one with 101', async () => {
    // Host and X-Test-Id make two lines: 98 more is 100 in all.
    const atLimit = await converse(berth.proxyPort, build('GET', 'none', 'at-limit', 98).bytes, ['GET']);
    assert.equal(atLimit.responses[0]?.status, 200);
    assert.equal(byId('at-limit').length, 1);
    // Ask for a second answer: berth closes the connection instead.
    const over = await converse(berth.proxyPort, build('GET', 'none', 'over-limit', 99).bytes, ['GET', 'GET']);
    assert.deepEqual(over.responses.map((r) => r.status), [431]);
    assert.equal(over.closed, true, 'the connection of a refused head is closed');
    assertNothingElse(1);
  });

  for (const method of METHODS) {
    for (const body of BODIES) {
      it(`frames ${method} with ${body === 'none' ? 'no body' : `a ${body} body`} the same way, alone, kept alive and pipelined`, async () => {
        const alone = build(method, body, `${method}-${body}-alone`);
        assert.equal((await converse(berth.proxyPort, alone.bytes, [method])).responses[0]?.status, 200);
        const first = build(method, body, `${method}-${body}-first`);
        const second = build(method, body, `${method}-${body}-second`);
        const third = build('GET', 'none', `${method}-${body}-third`);
        // Three pipelined requests in one write: bodies and heads back to back.
        const { responses } = await converse(berth.proxyPort, first.bytes + second.bytes + third.bytes, [method, method, 'GET']);
        assert.deepEqual(responses.map((r) => r.status), [200, 200, 200]);
        for (const sent of [alone, first, second, third]) {
          const seen = byId(sent.id);
          assert.equal(seen.length, 1, `${sent.id}: exactly once`);
          assertForwardedAsSent(seen[0], sent);
        }
        assertNothingElse(4);
      });
    }
  }

  it('sends Expect: 100-continue bodies with berth\'s framing and answers the client itself', async () => {
    const raw = `PUT / HTTP/1.1\r\nHost: echo.test\r\nX-Test-Id: expect\r\nExpect: 100-continue\r\nContent-Length: ${PAYLOAD.length}\r\n\r\n${PAYLOAD}`;
    const { responses } = await converse(berth.proxyPort, raw, ['PUT', 'PUT']);
    assert.equal(responses[0]?.status, 100);
    assert.equal(responses[1]?.status, 200);
    assertForwardedAsSent(byId('expect')[0], { id: 'expect', method: 'PUT', body: 'length', bytes: raw });
    assertNothingElse(1);
  });

  const paths: Array<[string, number, string | null]> = [
    ['/public/..\\admin', 400, null],
    ['/status/..\\x', 400, null],
    ['/public/%2e%2e%5cadmin', 400, null],
    ['/public/a%2Fb', 400, null],
    ['/public/a%00b', 400, null],
    ['/public#frag', 400, null],
    ['http://echo.test/public/..\\admin', 400, null],
    ['/public/../admin', 200, '/admin'],
    ['/status/x?a=%2F', 200, '/health/x?a=%2F'],
    ['/status', 200, '/health/'],
    ['/public/%7Euser?', 200, '/public/%7Euser?'],
    ['/status/..;/admin', 400, null],
    ['/status/%2e%2e;/x', 400, null],
    ['/public/.;/x', 400, null],
    ['/public/a;b=1/c', 200, '/public/a;b=1/c'],
  ];
  for (const [target, status, forwarded] of paths) {
    it(`answers ${target} with ${status}${forwarded ? ` and forwards ${forwarded}` : ' and forwards nothing'}`, async () => {
      const raw = `GET ${target} HTTP/1.1\r\nHost: echo.test\r\nX-Test-Id: path\r\n\r\n`;
      const { responses } = await converse(berth.proxyPort, raw, ['GET']);
      assert.equal(responses[0]?.status, status);
      assert.deepEqual(byId('path').map((request) => request.target), forwarded ? [forwarded] : []);
    });
  }

  it('sends a WebSocket handshake with the path routed, and refuses one with a backslash or a body', async () => {
    const handshake = (target: string, extra = '') =>
      `GET ${target} HTTP/1.1\r\nHost: echo.test\r\nX-Test-Id: ws\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;
    // The origin answers 200, not 101: berth relays it and closes.
    assert.equal((await converse(berth.proxyPort, handshake('/status/live?x=1'), ['GET'])).responses[0]?.status, 200);
    assert.equal((await converse(berth.proxyPort, handshake('/public/..\\admin'), ['GET'])).responses[0]?.status, 400);
    assert.equal((await converse(berth.proxyPort, handshake('/public/x', `Content-Length: ${PAYLOAD.length}\r\n`) + PAYLOAD, ['GET'])).responses[0]?.status, 400);
    assert.deepEqual(byId('ws').map((request) => [request.target, request.framing]), [['/health/live?x=1', 'none']]);
    assertNothingElse(1);
  });

  it('sends no 100 Continue for a request it refuses, and one for a request it forwards', async () => {
    const expect = (host: string) => `PUT /%2f HTTP/1.1\r\nHost: ${host}\r\nX-Test-Id: continue\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n`;
    assert.deepEqual((await converse(berth.proxyPort, expect('echo.test'), ['PUT'])).responses.map((r) => r.status), [400]);
    assert.deepEqual((await converse(berth.proxyPort, expect('nowhere.test'), ['PUT'])).responses.map((r) => r.status), [404]);
    assertNothingElse(0);
  });

  it('answers a request once, even when its body is then unreadable', async () => {
    const raw = 'POST / HTTP/1.1\r\nHost: echo.test\r\nTransfer-Encoding: chunked;x=1\r\n\r\n0\r\n\r\n';
    const { responses, closed } = await converse(berth.proxyPort, raw, ['POST', 'POST']);
    assert.equal(responses.length, 1, `one answer: ${responses.map((r) => r.status).join(', ')}`);
    assert.equal(closed, true);
  });

  it('answers a Connection: close request even when more bytes follow it', async () => {
    const raw = 'GET / HTTP/1.1\r\nHost: echo.test\r\nX-Test-Id: close\r\nConnection: close\r\n\r\nGET /next HTTP/1.1\r\nHost: echo.test\r\n\r\n';
    const { responses } = await converse(berth.proxyPort, raw, ['GET', 'GET']);
    assert.deepEqual(responses.map((r) => r.status), [200]);
    assertNothingElse(1);
  });

  it('refuses a Host that is not host[:port] and never forwards it', async () => {
    for (const host of ['echo.test:@evil.test', 'echo.test:80:80', 'echo.test/x', 'user@echo.test', 'echo test', 'evil.test,echo.test', 'evil.test;echo.test', '.echo.test', 'echo..test']) {
      const { responses } = await converse(berth.proxyPort, `GET / HTTP/1.1\r\nHost: ${host}\r\nX-Test-Id: host\r\n\r\n`, ['GET']);
      assert.equal(responses[0]?.status, 400, host);
    }
    assert.equal(byId('host').length, 0);
  });

  it('refuses TRACE and CONNECT with 405 and an Allow header', async () => {
    const trace = await converse(berth.proxyPort, 'TRACE / HTTP/1.1\r\nHost: echo.test\r\n\r\n', ['TRACE']);
    assert.equal(trace.responses[0]?.status, 405);
    assert.match(trace.responses[0]?.headers.get('allow') ?? '', /GET/);
    const connect = await converse(berth.proxyPort, 'CONNECT echo.test:443 HTTP/1.1\r\nHost: echo.test:443\r\n\r\n', ['CONNECT']);
    assert.equal(connect.responses[0]?.status, 405);
    assertNothingElse(0);
  });

  it('drops Proxy, Proxy-*, underscore and untrusted scheme headers, and sends X-Forwarded-Prefix for a stripped prefix', async () => {
    const raw = [
      'GET /status/ok HTTP/1.1',
      'Host: echo.test',
      'X-Test-Id: headers',
      'Proxy: http://evil.test:3128',
      'Proxy-Foo: 1',
      'X_Forwarded_For: 6.6.6.6',
      'X-Forwarded-Ssl: on',
      'X-Forwarded-Scheme: https',
      'Front-End-Https: on',
      'X-Original-URL: /admin',
      'X-Forwarded-Prefix: /evil',
      'X-Kept: yes',
      '',
      '',
    ].join('\r\n');
    assert.equal((await converse(berth.proxyPort, raw, ['GET'])).responses[0]?.status, 200);
    const seen = byId('headers')[0]!;
    const names = seen.headers.map(([name]) => name.toLowerCase());
    for (const gone of ['proxy', 'proxy-foo', 'x_forwarded_for', 'x-forwarded-ssl', 'x-forwarded-scheme', 'front-end-https', 'x-original-url']) {
      assert.ok(!names.includes(gone), `${gone} is not forwarded`);
    }
    assert.equal(header(seen, 'x-kept'), 'yes');
    assert.equal(header(seen, 'x-forwarded-prefix'), '/status');
    assert.equal(seen.target, '/health/ok');
  });

  it('forwards generated request heads exactly once with the routed path, or refuses them and forwards nothing', async () => {
    const segment = fc.constantFrom('a', 'public', 'status', '..', '.', '%2e%2e', '%2F', '%5c', '\\', '%00', '', '~x', '%41');
    const headerName = fc.constantFrom('X-A', 'x_b', 'Proxy', 'Proxy-X', 'X-Forwarded-For', 'Forwarded', 'Cookie');
    const request = fc.record({
      method: fc.constantFrom(...METHODS),
      body: fc.constantFrom(...BODIES),
      segments: fc.array(segment, { minLength: 1, maxLength: 5 }),
      query: fc.option(fc.constantFrom('?q=1', '?', '?a=%2F&b=..'), { nil: '' }),
      extra: fc.array(fc.tuple(headerName, fc.constantFrom('1', 'v')), { maxLength: 4 }),
      fillers: fc.constantFrom(0, 1, 97, 98, 99),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        origin.requests.length = 0;
        const id = `prop-${run++}`;
        const path = '/' + r.segments.join('/') + r.query;
        const sent = build(r.method, r.body, id, r.fillers, path);
        const extra = r.extra.map(([name, value]) => `${name}: ${value}\r\n`).join('');
        const bytes = sent.bytes.replace('\r\n', `\r\n${extra}`);
        const { responses } = await converse(berth.proxyPort, bytes, [r.method]);
        const status = responses[0]?.status ?? 0;
        const seen = byId(id);
        assert.ok(status > 0, 'berth answered');
        assert.ok(origin.requests.every((request) => header(request, 'x-test-id') === id), 'nothing but this request reached the origin');
        assert.ok(!origin.requests.some((request) => request.target === '/smuggled'));
        if (status !== 200) {
          assert.equal(seen.length, 0, `refused with ${status}, so nothing forwarded`);
          return;
        }
        assert.equal(seen.length, 1, 'forwarded exactly once');
        assertForwardedAsSent(seen[0], sent);
        const routed = canonicalTarget(path)!;
        const forwarded = seen[0]!.target;
        assert.ok(!forwarded.includes('\\'), 'no backslash reaches the origin');
        assert.ok(!/%2f|%5c|%00/i.test(forwarded.split('?')[0]!), 'no encoded separator reaches the origin');
        const expected = routed.path.startsWith('/status') && (routed.path === '/status' || routed.path.startsWith('/status/')) ? '/health' + (routed.path.slice(7) || '/') : routed.path;
        assert.equal(forwarded, expected + routed.query, 'the path forwarded is the path routed');
        for (const [name] of seen[0]!.headers) {
          assert.ok(!name.includes('_') && !/^proxy(-|$)/i.test(name), `${name} is not forwarded`);
        }
      }),
      { numRuns: 150 },
    );
  });
});
