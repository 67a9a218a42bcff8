import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import {
  cleanup,
  containerIp,
  createNetwork,
  docker,
  httpGet,
  runContainer,
  runHttpd,
  uniqueName,
  waitFor,
} from '../support/docker.js';
import { busyboxImage, nodeImage } from '../support/images.js';

after(cleanup);

describe('test helpers', () => {
  it('makes unique names that are valid DNS labels', () => {
    const first = uniqueName('Some_Prefix with SPACES and far too many characters to fit');
    assert.match(first, /^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$/);
    assert.notEqual(uniqueName('x'), uniqueName('x'));
  });

  it('names what it was waiting for when waitFor times out', async () => {
    await assert.rejects(waitFor(async () => false, { what: 'a miracle', timeoutMs: 50, intervalMs: 10 }), /waiting for a miracle/);
  });
});

describe('the busybox image', () => {
  it('is built once and runs busybox applets', async () => {
    const tag = await busyboxImage();
    assert.equal(await busyboxImage(), tag);
    assert.equal(await docker('run', '--rm', tag, 'sh', '-c', 'echo ok'), 'ok');
  });

  it('runs an httpd that answers with its container name and serves extra files', async () => {
    const { name } = await runHttpd({ image: await busyboxImage(), files: { 'api/x': 'api x' } });
    const ip = await containerIp(name);
    const home = await waitFor(() => httpGet(`http://${ip}/`), { what: `httpd ${name} at ${ip}` });
    assert.equal(home.status, 200);
    assert.equal(home.body, name);
    assert.equal((await httpGet(`http://${ip}/api/x`)).body, 'api x');
  });
});

describe('the node image running ws-echo', () => {
  let name = '';
  let base = '';

  before(async () => {
    const network = await createNetwork('ws');
    ({ name } = await runContainer({ image: await nodeImage(), network }));
    base = `${await containerIp(name, network)}:8080`;
    await waitFor(() => httpGet(`http://${base}/`), { what: `ws-echo ${name} at ${base}` });
  });

  it('describes a GET as JSON: server, path and headers as received', async () => {
    const res = await httpGet(`http://${base}/some/path?q=1`, {
      host: 'app.example.test',
      headers: { 'x-request-id': 'r-1', 'x-forwarded-for': '10.0.0.9' },
    });
    assert.equal(res.status, 200);
    const described = JSON.parse(res.body) as { server: string; path: string; headers: Record<string, string> };
    assert.equal(described.server, name);
    assert.equal(described.path, '/some/path?q=1');
    assert.equal(described.headers.host, 'app.example.test');
    assert.equal(described.headers['x-request-id'], 'r-1');
    assert.equal(described.headers['x-forwarded-for'], '10.0.0.9');
  });

  it('echoes WebSocket messages of every length encoding and answers ping and close', async () => {
    const socket = new WebSocket(`ws://${base}/chat`);
    await once(socket, 'open');
    const echo = async (data: string | Buffer): Promise<string | Buffer> => {
      socket.send(data);
      const [reply, isBinary] = (await once(socket, 'message')) as [Buffer, boolean];
      return isBinary ? reply : reply.toString('utf8');
    };
    assert.equal(await echo('hello'), 'hello');
    for (const size of [300, 70_000]) {
      const payload = Buffer.alloc(size, size % 251);
      assert.deepEqual(await echo(payload), payload);
    }
    socket.send('frag', { fin: false });
    assert.equal(await echo('mented'), 'fragmented');
    socket.ping('p');
    const [pong] = (await once(socket, 'pong')) as [Buffer];
    assert.equal(pong.toString(), 'p');
    socket.close(1000);
    const [code] = (await once(socket, 'close')) as [number];
    assert.equal(code, 1000);
  });
});

describe('cleanup', () => {
  it('removes every container and network this process created', async () => {
    const network = await createNetwork('gone');
    const { name } = await runContainer({ image: await busyboxImage(), network, cmd: ['sleep', '600'] });
    await cleanup();
    assert.equal(await docker('ps', '-aq', '--filter', `name=^${name}$`), '');
    await assert.rejects(docker('network', 'inspect', network), /not found|no such network/i);
    await cleanup();
  });
});
