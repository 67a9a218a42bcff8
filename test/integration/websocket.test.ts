// WebSocket upgrades ride the same routes as plain requests.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startSyncedBerth, type RunningBerth } from '../support/berth.js';
import { cleanup, runContainer, uniqueName, waitFor } from '../support/docker.js';
import { nodeImage } from '../support/images.js';

describe('WebSocket through berth', () => {
  let berth: RunningBerth;
  let host: string;
  let echo: string;

  before(async () => {
    const image = await nodeImage();
    host = `${uniqueName('ws')}.test`;
    berth = await startSyncedBerth();
    echo = (await runContainer({ image, labels: { 'berth.host': host, 'berth.path': '/chat', 'berth.strip-prefix': 'true' } })).name;
    await waitFor(async () => (await berth.request(host, '/chat/')).status === 200, { what: 'the echo server answering through berth' });
  });
  after(async () => {
    await berth?.stop();
    await cleanup();
  });

  it('echoes messages over a WebSocket proxied to a container, with the prefix stripped', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${berth.proxyPort}/chat/room?x=1`, { headers: { host } });
    await once(socket, 'open');
    const replies: string[] = [];
    socket.on('message', (data) => replies.push(data.toString()));
    socket.send('hello');
    socket.send('ünïcødé '.repeat(5000));
    await waitFor(async () => replies.length === 2, { what: 'two echoes', timeoutMs: 5000, intervalMs: 10 });
    assert.deepEqual(replies, ['hello', 'ünïcødé '.repeat(5000)]);
    socket.close();
    await once(socket, 'close');
  });

  it('tells the upstream where a request came from, replacing a spoofed X-Forwarded-For', async () => {
    const response = await berth.request(host, '/chat/who', { headers: { 'x-forwarded-for': '6.6.6.6' } });
    const seen = JSON.parse(response.body) as { server: string; path: string; headers: Record<string, string> };
    assert.equal(seen.server, echo);
    assert.equal(seen.path, '/who');
    assert.equal(seen.headers['host'], host);
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'an untrusted client cannot set X-Forwarded-For');
    assert.equal(seen.headers['x-forwarded-host'], host);
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.match(seen.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
  });

  it('refuses an upgrade to anything but WebSocket with 400', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ port: berth.proxyPort, path: '/chat/', headers: { host, connection: 'upgrade', upgrade: 'h2c' }, agent: false });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 400);
  });
});
