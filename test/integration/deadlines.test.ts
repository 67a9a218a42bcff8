// Upstream deadlines, pipelining and vanished clients against real listeners on loopback:
// a black-holed upstream, one that accepts and never answers, and a slow recording origin.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startSyncedBerth, type RunningBerth } from '../support/berth.js';
import { startBlackHole, type BlackHole } from '../support/black-hole.js';
import { converse } from '../support/raw.js';
import { startRecordingOrigin, type RecordingOrigin } from '../support/recording-origin.js';

/** Accepts connections and reads forever, never answering. */
async function startSilentUpstream() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

describe('upstream deadlines and one request at a time', () => {
  let berth: RunningBerth;
  let hole: BlackHole;
  let silent: Awaited<ReturnType<typeof startSilentUpstream>>;
  let origin: RecordingOrigin;
  let slow: RecordingOrigin;
  let folder: string;

  before(async () => {
    [hole, silent, origin, slow] = await Promise.all([startBlackHole(), startSilentUpstream(), startRecordingOrigin(), startRecordingOrigin({ delayMs: 300 })]);
    folder = await mkdtemp(join(tmpdir(), 'berth-deadlines-'));
    const at = (port: number) => `http://127.0.0.1:${port}`;
    const routes = [
      'routes:',
      `  - { host: hole.test, to: ${at(hole.port)} }`,
      `  - { host: silent.test, to: ${at(silent.port)} }`,
      `  - { host: spare.test, to: [${at(hole.port)}, ${at(origin.port)}] }`,
      `  - { host: echo.test, to: ${at(origin.port)} }`,
      `  - { host: slow.test, to: ${at(slow.port)} }`,
    ];
    await writeFile(join(folder, 'routes.yml'), routes.join('\n') + '\n');
    berth = await startSyncedBerth(['--no-docker', '--routes-file', join(folder, 'routes.yml'), '--connect-timeout', '1s', '--upstream-timeout', '1500ms']);
  });
  after(async () => {
    await berth?.stop();
    hole?.close();
    silent?.close();
    await origin?.close();
    await slow?.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('answers 504 for an upstream that never accepts the connection, after --connect-timeout', async () => {
    const { value: response, ms } = await timed(() => berth.request('hole.test', '/', { timeoutMs: 10_000 }));
    assert.equal(response.status, 504);
    assert.match(response.body, /BERTH_E_UPSTREAM_CONNECT_TIMEOUT/);
    assert.ok(ms >= 900 && ms < 3000, `504 after ${Math.round(ms)} ms`);
  });

  it('tries another endpoint when the first never accepts the connection', async () => {
    const statuses = [];
    for (let i = 0; i < 2; i++) statuses.push((await berth.request('spare.test', '/', { timeoutMs: 10_000 })).status);
    assert.deepEqual(statuses, [200, 200]);
  });

  it('answers 504 for a silent upstream after --upstream-timeout, Expect: 100-continue included', async () => {
    const raw = 'PUT / HTTP/1.1\r\nHost: silent.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello';
    const { value: conversation, ms } = await timed(() => converse(berth.proxyPort, raw, ['PUT', 'PUT'], 8000));
    assert.deepEqual(conversation.responses.map((r) => r.status), [100, 504]);
    assert.ok(ms >= 1400 && ms < 4000, `504 after ${Math.round(ms)} ms`);
  });

  for (const [host, label] of [['silent.test', 'a silent upstream'], ['hole.test', 'an upstream that never accepts']] as const) {
    it(`answers a WebSocket handshake to ${label} with 504 in time`, async () => {
      const started = performance.now();
      const status = await new Promise<number>((resolve) => {
        const socket = new WebSocket(`ws://127.0.0.1:${berth.proxyPort}/`, { headers: { host } });
        socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.on('error', () => resolve(0));
        socket.on('open', () => resolve(101));
      });
      const ms = performance.now() - started;
      assert.equal(status, 504);
      assert.ok(ms < 4000, `answered after ${Math.round(ms)} ms`);
    });
  }

  it('serves 1000 pipelined requests of one connection in order over one upstream connection', async () => {
    origin.requests.length = 0;
    const before = origin.connections();
    const requests = Array.from({ length: 1000 }, (_, i) => `GET /n/${i} HTTP/1.1\r\nHost: echo.test\r\n\r\n`).join('');
    const { responses } = await converse(berth.proxyPort, requests, Array(1000).fill('GET'), 20_000);
    assert.equal(responses.length, 1000);
    assert.deepEqual(responses.map((r) => JSON.parse(r.body).target), Array.from({ length: 1000 }, (_, i) => `/n/${i}`));
    assert.ok(origin.connections() - before <= 1, `${origin.connections() - before} upstream connections opened`);
  });

  it('abandons the rest of a pipeline when its client leaves, and logs what never got an answer as 499', async () => {
    slow.requests.length = 0;
    const requests = Array.from({ length: 20 }, (_, i) => `GET /slow/${i} HTTP/1.1\r\nHost: slow.test\r\nX-Request-Id: pipeline-${i}\r\n\r\n`).join('');
    await converse(berth.proxyPort, requests, Array(20).fill('GET'), 100);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.ok(slow.requests.length <= 1, `${slow.requests.length} requests reached the origin after the client left`);
    const logged = berth.logs.filter((line) => line.msg === 'request' && String(line['requestId']).startsWith('pipeline-'));
    assert.equal(logged.length, 20, 'every request of the pipeline is logged');
    assert.ok(logged.every((line) => line['status'] === 499 && line['aborted'] === true));
    assert.ok(!berth.logs.some((line) => line.msg === 'upstream request failed' && line['host'] === 'slow.test'), 'berth\'s own abort is no upstream failure');
    const metrics = await (await fetch(`http://127.0.0.1:${berth.adminPort}/metrics`)).text();
    assert.match(metrics, /berth_requests_total\{host="slow.test",status_class="aborted"\} 20/);
  });
});
