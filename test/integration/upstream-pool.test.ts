// The upstream keep-alive pools and the deadlines their sockets carry, against real listeners on loopback.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createAgents, type Agents } from '../../src/proxy/upstream-agents.js';
import { UPSTREAM_TIMEOUT } from '../../src/proxy/upstream-errors.js';

/** GET / through `agent`: the status and body, or the error the request failed with. */
function get(port: number, agent: http.Agent, path = '/'): Promise<{ status: number; body: string } | { error: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    const request = http.request({ host: '127.0.0.1', port, path, agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', (error) => resolve({ error }));
    request.end();
  });
}

describe('upstream pools', () => {
  let server: http.Server;
  let port: number;
  const connections: net.Socket[] = [];
  const closed: net.Socket[] = [];
  let agents: Agents;

  before(async () => {
    server = http.createServer((req, res) => {
      // A short Keep-Alive hint, as Node and many servers send; /slow answers after it has passed.
      const answer = () => res.writeHead(200, { 'keep-alive': 'timeout=2' }).end(`served ${req.url}`);
      if (req.url === '/slow') setTimeout(answer, 1500);
      else if (req.url !== '/silent') answer();
    });
    server.keepAliveTimeout = 60_000;
    server.on('connection', (socket: net.Socket) => {
      connections.push(socket);
      socket.once('close', () => closed.push(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    agents = createAgents({ connectMs: 1000, idleMs: 3000 });
  });

  after(() => {
    agents.http.destroy();
    server.closeAllConnections();
    server.close();
  });

  it('give a reused socket the whole idle limit for its request, not the shorter wait the server hinted for idling', async () => {
    assert.deepEqual(await get(port, agents.http, '/'), { status: 200, body: 'served /' });
    const before = connections.length;
    // The hint (2 s, less a second) is shorter than the answer takes; berth's limit (3 s) is not.
    assert.deepEqual(await get(port, agents.http, '/slow'), { status: 200, body: 'served /slow' });
    assert.equal(connections.length, before, 'the pooled connection served the second request');
  });

  it('fail a request whose upstream stays silent past the idle limit with the timeout code, on a reused socket too', async () => {
    assert.deepEqual(await get(port, agents.http, '/'), { status: 200, body: 'served /' });
    const before = connections.length;
    const started = performance.now();
    const result = await get(port, agents.http, '/silent');
    assert.ok('error' in result, 'the request failed');
    assert.equal(result.error.code, UPSTREAM_TIMEOUT);
    assert.ok(performance.now() - started >= 2900, 'not before the limit');
    assert.equal(connections.length, before, 'on the pooled connection');
  });

  it('close a pooled socket that idles past the hint the server gave', async () => {
    const fresh = createAgents({ connectMs: 1000, idleMs: 30_000 });
    try {
      assert.deepEqual(await get(port, fresh.http, '/'), { status: 200, body: 'served /' });
      const socket = connections.at(-1)!;
      const started = performance.now();
      while (!closed.includes(socket) && performance.now() - started < 5000) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(closed.includes(socket), 'the idle connection was closed');
      const waited = performance.now() - started;
      assert.ok(waited >= 900 && waited < 3000, `after the hint less a second (${Math.round(waited)} ms)`);
    } finally {
      fresh.http.destroy();
    }
  });
});
