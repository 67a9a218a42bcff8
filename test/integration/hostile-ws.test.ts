// WebSocket faults and resource leaks: berth stays whole when clients and upstreams misbehave.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { request, startSyncedBerth, type RunningBerth } from '../support/berth.js';
import { rawExchange } from '../support/raw.js';

async function listening<T extends net.Server>(server: T): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

async function metric(berth: RunningBerth, name: string): Promise<number> {
  const { body } = await request({ port: berth.adminPort, path: '/metrics', method: 'GET', headers: {}, timeoutMs: 5000 });
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(body)?.[1] ?? NaN);
}

/** Polls until the value settles within `slack` of `target`, returning the last value. */
async function settlesNear(read: () => Promise<number> | number, target: number, slack: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (Date.now() < deadline && value > target + slack) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    value = await read();
  }
  return value;
}

describe('WebSocket faults and leaks', () => {
  const servers: net.Server[] = [];
  let berth: RunningBerth;
  let folder: string;

  before(async () => {
    const echo = http.createServer((_req, res) => res.end('echo'));
    new WebSocketServer({ server: echo }).on('connection', (socket) => socket.on('message', (data, binary) => socket.send(data, { binary })));
    const dropping = http.createServer();
    new WebSocketServer({ server: dropping }).on('connection', (socket) => setTimeout(() => socket.terminate(), 50));
    const notWebSocket = net.createServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\nnot a ws :)')));
    const resetting = net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const streaming = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('x'.repeat(1024)), 5);
      res.on('close', () => clearInterval(timer));
    });
    servers.push(echo, dropping, notWebSocket, resetting, streaming);
    const [echoPort, droppingPort, notWsPort, resetPort, streamPort] = await Promise.all(servers.map(listening));
    folder = await mkdtemp(join(tmpdir(), 'berth-ws-'));
    const route = (host: string, port: number) => `  - host: ${host}\n    to: http://127.0.0.1:${port}\n`;
    await writeFile(
      join(folder, 'routes.yml'),
      'routes:\n' + route('echo.test', echoPort!) + route('drop.test', droppingPort!) + route('notws.test', notWsPort!) + route('reset.test', resetPort!) + route('stream.test', streamPort!),
    );
    berth = await startSyncedBerth(['--no-docker', '--routes-file', join(folder, 'routes.yml'), '--websocket-idle-timeout', '1s', '--access-log=false']);
  });
  after(async () => {
    await berth?.stop();
    for (const server of servers) server.close();
    await rm(folder, { recursive: true, force: true });
  });

  const connect = (host: string) => new WebSocket(`ws://127.0.0.1:${berth.proxyPort}/`, { headers: { host } });
  const upgrade = (method: string, host: string, upgradeTo = 'websocket') =>
    rawExchange(berth.proxyPort, [`${method} / HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: ${upgradeTo}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`]);

  it('refuses a non-GET upgrade and an h2c upgrade with 400', async () => {
    assert.equal((await upgrade('POST', 'echo.test')).status, 400);
    assert.equal((await upgrade('GET', 'echo.test', 'h2c')).status, 400);
  });

  it('relays an upstream that answers with something other than 101, then closes', async () => {
    const reply = await upgrade('GET', 'notws.test');
    assert.equal(reply.status, 200);
    assert.match(reply.text, /not a ws :\)/);
    assert.equal(reply.closed, true);
  });

  it('answers 502 when the upstream resets before the upgrade', async () => {
    const reply = await upgrade('GET', 'reset.test');
    assert.equal(reply.status, 502);
  });

  it('closes the client when the upstream drops an established WebSocket', async () => {
    const socket = connect('drop.test');
    await once(socket, 'open');
    const [code] = (await once(socket, 'close')) as [number];
    assert.ok(code === 1006 || code === 1005, `closed with ${code}`);
  });

  it('closes an idle WebSocket after the idle timeout, but not a chatty one', async () => {
    const idle = connect('echo.test');
    const chatty = connect('echo.test');
    await Promise.all([once(idle, 'open'), once(chatty, 'open')]);
    let echoes = 0;
    chatty.on('message', () => echoes++);
    const talking = setInterval(() => chatty.send('still here'), 200);
    const started = Date.now();
    await once(idle, 'close');
    const idleFor = Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 600));
    clearInterval(talking);
    assert.ok(idleFor >= 900 && idleFor < 3000, `idle socket closed after ${idleFor} ms`);
    assert.equal(chatty.readyState, WebSocket.OPEN);
    assert.ok(echoes >= 5);
    chatty.close();
    await once(chatty, 'close');
  });

  it('returns file descriptors and heap near their baseline after 10,000 client aborts', async () => {
    for (let i = 0; i < 20; i++) await berth.request('echo.test', '/warm');
    const fdsBefore = openFds(berth.pid);
    const heapBefore = await metric(berth, 'berth_nodejs_heap_size_used_bytes');
    const abortOne = (i: number) =>
      new Promise<void>((resolve) => {
        const midResponse = i % 2 === 0;
        const socket = net.connect(berth.proxyPort, '127.0.0.1', () => {
          socket.write(midResponse ? 'GET / HTTP/1.1\r\nHost: stream.test\r\n\r\n' : 'POST / HTTP/1.1\r\nHost: echo.test\r\nContent-Length: 100000\r\n\r\npartial body');
          if (!midResponse) setImmediate(() => socket.destroy());
        });
        if (midResponse) socket.once('data', () => socket.destroy());
        socket.on('close', () => resolve());
        socket.on('error', () => {});
      });
    const total = 10_000;
    let next = 0;
    const lane = async () => {
      while (next < total) await abortOne(next++);
    };
    await Promise.all(Array.from({ length: 50 }, lane));
    const fdsAfter = await settlesNear(() => openFds(berth.pid), fdsBefore, 10);
    assert.ok(fdsAfter <= fdsBefore + 10, `fds ${fdsBefore} -> ${fdsAfter}`);
    assert.equal(await settlesNear(() => metric(berth, 'berth_active_connections'), 0, 0), 0);
    const heapAfter = await metric(berth, 'berth_nodejs_heap_size_used_bytes');
    assert.ok(heapAfter - heapBefore < 40 * 1024 * 1024, `heap grew by ${((heapAfter - heapBefore) / 1048576).toFixed(1)} MiB`);
    assert.equal((await berth.request('echo.test', '/after')).status, 200);
  });

  it('returns file descriptors and the WebSocket gauge to their baseline after 1,000 open/close cycles', async () => {
    const fdsBefore = openFds(berth.pid);
    for (let i = 0; i < 1000; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const socket = connect('echo.test');
          await once(socket, 'open');
          socket.send('ping');
          await once(socket, 'message');
          socket.close();
          await once(socket, 'close');
        }),
      );
    }
    const fdsAfter = await settlesNear(() => openFds(berth.pid), fdsBefore, 10);
    assert.ok(fdsAfter <= fdsBefore + 10, `fds ${fdsBefore} -> ${fdsAfter}`);
    assert.equal(await settlesNear(() => metric(berth, 'berth_active_websockets'), 0, 0), 0);
  });
});
