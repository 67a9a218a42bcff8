// Raw-socket tricks against what berth claims: bytes pipelined after a refusal that ends its
// connection reach nothing, spoofed forwarding headers and Host lists get nowhere, and an upstream
// that switches protocols unasked cannot leave a client waiting.
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RunningBerth } from '../support/berth.js';
import { berthWithRoutes, type RoutedBerth } from '../support/routed-berth.js';
import { converse } from '../support/raw.js';
import { header, startRecordingOrigin, type RecordingOrigin } from '../support/recording-origin.js';

const HOST = 'Host: echo.test\r\n';
const SMUGGLED = `POST /smuggled HTTP/1.1\r\n${HOST}Content-Length: 3\r\n\r\nabc`;

describe('bytes after a refusal, spoofed forwarding headers and Host lists', () => {
  let origin: RecordingOrigin;
  let routed: RoutedBerth;
  let berth: RunningBerth;

  before(async () => {
    origin = await startRecordingOrigin();
    const to = `http://127.0.0.1:${origin.port}`;
    routed = await berthWithRoutes(['routes:', '  - host: echo.test', `    to: ${to}`, '  - host: "*.wild.test"', `    to: ${to}`].join('\n'), ['--access-log=false']);
    berth = routed.berth;
  });
  after(async () => {
    await routed?.stop();
    await origin?.close();
  });

  // Each refusal below answers `Connection: close` because the request "could not be read safely";
  // the bytes after it must then reach nothing. With a keep-alive upstream connection already in
  // berth's pool, the pipelined request behind the refusal is forwarded (its answer is lost).
  const refusals: Record<string, string> = {
    'a Transfer-Encoding besides chunked (501)': `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
    'two Host headers (400)': `POST / HTTP/1.1\r\n${HOST}Host: other.test\r\nContent-Length: 5\r\n\r\nhello`,
    'an encoded slash (400)': `GET /%2f HTTP/1.1\r\n${HOST}\r\n`,
    'more than 100 header lines (431)': `GET / HTTP/1.1\r\n${HOST}${'X-Filler: 1\r\n'.repeat(100)}\r\n`,
    'TRACE (405)': `TRACE / HTTP/1.1\r\n${HOST}\r\n`,
  };
  for (const [name, refused] of Object.entries(refusals)) {
    it(`a request pipelined after ${name} never reaches the upstream`, async () => {
      // Leaves an idle keep-alive upstream connection in berth's agent, as any live traffic does.
      assert.equal((await converse(berth.proxyPort, `GET /warm HTTP/1.1\r\n${HOST}\r\n`, ['GET'])).responses[0]?.status, 200);
      const before = origin.requests.length;
      const conversation = await converse(berth.proxyPort, refused + SMUGGLED, ['POST', 'POST'], 1000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(conversation.closed, 'berth ended the connection');
      assert.equal(conversation.responses.length, 1, 'one answer: the refusal');
      const reached = origin.requests.slice(before).map((request) => `${request.method} ${request.target}`);
      assert.deepEqual(reached, [], 'nothing after the refused request reached the upstream');
    });
  }

  it('an X-Forwarded-* header from an untrusted client never reaches the upstream unless berth set it', async () => {
    const spoofed = ['X-Forwarded-Uri: /admin', 'X-Forwarded-Method: DELETE', 'X-Forwarded-User: admin', 'X-Forwarded-Email: admin@example.test', 'X-Forwarded-Client-Cert: Subject="CN=admin"', 'X-Forwarded-Tls-Client-Cert: MIIB'];
    const before = origin.requests.length;
    const { responses } = await converse(berth.proxyPort, `GET /spoof HTTP/1.1\r\n${HOST}${spoofed.map((line) => line + '\r\n').join('')}\r\n`, ['GET']);
    assert.equal(responses[0]?.status, 200);
    const seen = origin.requests[before]!;
    const passed = spoofed.map((line) => line.slice(0, line.indexOf(':')).toLowerCase()).filter((name) => header(seen, name) !== undefined);
    assert.deepEqual(passed, [], 'client-sent X-Forwarded-* headers berth does not own were forwarded');
  });

  it('a Host header that holds a list of hosts is a 400, not routed to a wildcard', async () => {
    const before = origin.requests.length;
    const { responses } = await converse(berth.proxyPort, 'GET / HTTP/1.1\r\nHost: evil.example,a.wild.test\r\n\r\n', ['GET']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const forwardedHost = origin.requests[before] ? header(origin.requests[before]!, 'x-forwarded-host') : undefined;
    assert.equal(responses[0]?.status, 400, `answered ${responses[0]?.status}; the upstream saw X-Forwarded-Host: ${forwardedHost}`);
  });
});

describe('an upstream that answers a plain request with 101', () => {
  let upstream: net.Server;
  let routed: RoutedBerth;

  before(async () => {
    upstream = net.createServer((socket) => {
      socket.on('error', () => socket.destroy());
      socket.once('data', () => socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    routed = await berthWithRoutes(['routes:', '  - host: echo.test', `    to: http://127.0.0.1:${port}`].join('\n'), ['--access-log=false', '--upstream-timeout', '1s']);
  });
  after(async () => {
    await routed?.stop();
    upstream?.close();
  });

  it('the client gets a 502 instead of waiting forever', async () => {
    const { responses } = await converse(routed.berth.proxyPort, `GET / HTTP/1.1\r\n${HOST}\r\n`, ['GET'], 4000);
    assert.equal(responses.length, 1, 'berth answered within 4 s (the upstream timeout is 1 s)');
    assert.equal(responses[0]?.status, 502);
  });
});
