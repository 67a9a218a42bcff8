// berth as users run it: its own image, in a container, the Docker socket's folder mounted,
// the proxy port published, next to the containers it routes on user-defined networks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  cleanup,
  containerIp,
  createNetwork,
  docker,
  httpGet,
  runContainer,
  runHttpd,
  TEST_LABEL,
  uniqueName,
  waitFor,
} from '../support/docker.js';
import { freeLoopbackPort } from '../support/ports.js';
import { berthImage, busyboxImage, nodeBaseImage, nodeImage } from '../support/images.js';
import { fixturePath } from '../support/repo.js';

const PORT_80 = { 'berth.port': '80' };

interface RouteView {
  host: string;
  endpoints: Array<{ container: string | null; url: string }>;
}

interface ContainerView {
  name: string;
  routes: Array<{ host: string; address: string }>;
  problems: Array<{ code: string; message: string; fix?: string }>;
}

/** Where the engine's socket is on this machine; berth's container gets the folder holding it. */
function engineSocket(): { folder: string; file: string } {
  const url = process.env['DOCKER_HOST'] || 'unix:///var/run/docker.sock';
  if (!url.startsWith('unix://')) throw new Error(`these tests mount the engine's socket into berth's container; DOCKER_HOST=${url} is not a socket`);
  const path = url.slice('unix://'.length);
  return { folder: path.slice(0, path.lastIndexOf('/')) || '/', file: path.slice(path.lastIndexOf('/') + 1) };
}

/** Prints {status, body} of a GET on the admin API, from inside berth's container (loopback there). */
const ADMIN_GET = `require('http').get({ host: '127.0.0.1', port: 8081, path: process.argv[1] }, (res) => {
  let body = '';
  res.setEncoding('utf8').on('data', (chunk) => (body += chunk)).on('end', () => process.stdout.write(JSON.stringify({ status: res.statusCode, body })));
}).on('error', (err) => { process.stderr.write(err.message); process.exit(1); });`;


/** Containers this file starts itself (runContainer cannot leave the hostname to Docker); removed after the suite. */
const running = new Set<string>();

class BerthContainer {
  private constructor(
    readonly name: string,
    /** The published proxy port on 127.0.0.1; 0 when not published. */
    readonly port: number,
  ) {}

  /**
   * `docker run -d` as the README shows: the socket's folder mounted read-only (unless told not
   * to), the proxy port published to 127.0.0.1 only. Resolves once the container runs, not when
   * berth is ready.
   */
  static async run(image: string, network: string, { args = [] as string[], publish = true, socket = true } = {}): Promise<BerthContainer> {
    const name = uniqueName('berth');
    const command = ['run', '-d', '--name', name, '--label', TEST_LABEL, '--network', network];
    if (socket) {
      const { folder, file } = engineSocket();
      command.push('--volume', `${folder}:/var/run:ro`, '--env', `BERTH_DOCKER_HOST=unix:///var/run/${file}`);
    }
    if (publish) command.push('--publish', '127.0.0.1::80');
    running.add(name);
    await docker(...command, ...args, image);
    const port = publish ? Number((await docker('port', name, '80/tcp')).split('\n')[0]!.split(':').pop()) : 0;
    return new BerthContainer(name, port);
  }

  async admin<T>(path: string): Promise<{ status: number; body: T }> {
    const { status, body } = JSON.parse(await docker('exec', this.name, 'node', '-e', ADMIN_GET, path)) as { status: number; body: string };
    return { status, body: JSON.parse(body) as T };
  }

  /** Polls /readyz until it answers 200. */
  async ready(): Promise<void> {
    await waitFor(async () => (await this.admin('/readyz')).status === 200, { what: `berth in ${this.name} ready`, timeoutMs: 15_000, intervalMs: 20 });
  }

  request(host: string, path = '/', timeoutMs = 5000) {
    return httpGet(`http://127.0.0.1:${this.port}${path}`, { host, timeoutMs });
  }

  async endpointUrls(host: string): Promise<string[]> {
    const { body } = await this.admin<{ routes: RouteView[] }>('/api/routes');
    return body.routes.filter((route) => route.host === host).flatMap((route) => route.endpoints.map((endpoint) => endpoint.url));
  }

  async logs(): Promise<Array<Record<string, unknown>>> {
    const text = await docker('logs', this.name);
    return text.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }
}

describe('berth in a container, on user-defined networks', () => {
  let image: string;
  let httpd: string;
  let berth: BerthContainer;
  let shared: string;
  let other: string;
  let readyMs: number;

  before(async () => {
    [image, httpd] = await Promise.all([berthImage(), busyboxImage()]);
    // The network berth is not on sorts first: berth must not simply take the first one.
    [other, shared] = (await Promise.all([createNetwork('net'), createNetwork('net')])).sort() as [string, string];
    const started = Date.now();
    berth = await BerthContainer.run(image, shared, { args: ['--health-interval', '1s'] });
    await berth.ready();
    readyMs = Date.now() - started;
  });

  after(async () => {
    await Promise.all([...running].map((name) => docker('rm', '--force', name).catch(() => undefined)));
    await cleanup();
  });

  it('is ready within 5 s of docker run, turns healthy by its own health check, and adds little to its base', async (t) => {
    t.diagnostic(`ready ${readyMs} ms after docker run`);
    assert.ok(readyMs < 5000, `ready after ${readyMs} ms`);
    const health = await waitFor(async () => {
      const status = await docker('inspect', '-f', '{{.State.Health.Status}}', berth.name);
      return status !== 'starting' && status;
    }, { what: 'a health check result', timeoutMs: 10_000 });
    assert.equal(health, 'healthy');

    const [config, ownBytes] = await Promise.all([
      docker('image', 'inspect', '-f', '{{json .Config}}', image).then((json) => JSON.parse(json) as { StopSignal: string; ExposedPorts: Record<string, unknown> }),
      Promise.all([image, await nodeBaseImage()].map((tag) => docker('image', 'inspect', '-f', '{{.Size}}', tag).then(Number))).then(([all, base]) => all! - base!),
    ]);
    t.diagnostic(`image layers above the base: ${(ownBytes / 1e6).toFixed(1)} MB`);
    assert.equal(config.StopSignal, 'SIGTERM');
    assert.deepEqual(Object.keys(config.ExposedPorts), ['443/tcp', '80/tcp']);
    assert.ok(ownBytes < 40e6, `berth's own layers take ${ownBytes} bytes`);
  });

  it('routes labelled containers on a user-defined network through the published port', async () => {
    const hosts = [`${uniqueName('one')}.test`, `${uniqueName('two')}.test`];
    const apps = await Promise.all(hosts.map((host) => runHttpd({ image: httpd, network: shared, labels: { ...PORT_80, 'berth.host': host } })));
    for (const [i, host] of hosts.entries()) {
      const body = await waitFor(async () => {
        const response = await berth.request(host);
        return response.status === 200 && response.body;
      }, { what: `${host} answering through the published port` });
      assert.equal(body, apps[i]!.name);
    }
    assert.equal((await berth.request('nobody.test')).status, 404);
  });

  it('reaches a container on two networks through the one it shares with berth, 200 requests out of 200', async () => {
    assert.ok(other < shared, 'the network berth is not on sorts first');
    const host = `${uniqueName('twonets')}.test`;
    // On both networks before it starts, as compose attaches a service to several networks.
    const app = { name: uniqueName('twonets') };
    running.add(app.name);
    await docker('create', '--name', app.name, '--label', TEST_LABEL, '--label', `berth.host=${host}`, '--label', 'berth.port=80', '--network', other, '--init', httpd, 'sh', '-c', `printf %s ${app.name} > /www/index.html && exec httpd -f -p 80 -h /www`);
    await docker('network', 'connect', shared, app.name);
    await docker('start', app.name);
    const [sharedIp, otherIp] = await Promise.all([containerIp(app.name, shared), containerIp(app.name, other)]);
    assert.notEqual(sharedIp, otherIp);
    await waitFor(async () => (await berth.endpointUrls(host)).length > 0, { what: `a route for ${host}` });
    assert.deepEqual(await berth.endpointUrls(host), [`http://${sharedIp}:80`]);
    const { body } = await berth.admin<{ containers: ContainerView[] }>('/api/containers');
    assert.deepEqual(body.containers.find((c) => c.name === app.name)?.routes.map((route) => route.address), [sharedIp]);

    const failures: string[] = [];
    for (let i = 0; i < 200; i++) {
      const response = await berth.request(host);
      if (response.status !== 200 || response.body !== app.name) failures.push(`${i}: ${response.status} ${response.body.slice(0, 80)}`);
    }
    assert.deepEqual(failures, []);
  });

  it('shows BERTH_E_NETWORK_MISSING with the fix in /api/containers for a container on no network berth is on', async () => {
    const host = `${uniqueName('lost')}.test`;
    const app = await runHttpd({ image: httpd, network: other, labels: { ...PORT_80, 'berth.host': host } });
    const seen = await waitFor(async () => {
      const { body } = await berth.admin<{ containers: ContainerView[] }>('/api/containers');
      return body.containers.find((c) => c.name === app.name);
    }, { what: `${app.name} in /api/containers` });
    assert.deepEqual(seen.problems.map((p) => p.code), ['BERTH_E_NETWORK_MISSING']);
    assert.match(seen.problems[0]!.fix ?? '', new RegExp(`docker network connect ${shared} ${app.name}`));
    assert.deepEqual(seen.routes, []);
    assert.equal((await berth.request(host)).status, 404);
  });

  it('reaches a network_mode: host container at the gateway of its own network, not its own loopback', async () => {
    const host = `${uniqueName('hostmode')}.test`;
    const port = await freeLoopbackPort();
    const app = await runHttpd({ image: httpd, network: 'host', port, labels: { 'berth.port': String(port), 'berth.host': host } });
    const gateway = await docker('network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', shared);
    await waitFor(async () => (await berth.endpointUrls(host)).length > 0, { what: `a route for ${host}` });
    assert.deepEqual(await berth.endpointUrls(host), [`http://${gateway}:${port}`]);
    const body = await waitFor(async () => {
      const response = await berth.request(host);
      return response.status === 200 && response.body;
    }, { what: `${host} answering through berth` });
    assert.equal(body, app.name);
  });

  it('shows BERTH_E_NETWORK_NOT_SHARED for a berth.network berth is not on, and routes once berth is connected to it', async () => {
    const host = `${uniqueName('notshared')}.test`;
    const app = await runHttpd({ image: httpd, network: other, labels: { ...PORT_80, 'berth.host': host, 'berth.network': other } });
    await docker('network', 'connect', shared, app.name);
    // A berth of its own: connecting a container with a published port to a network moves the port's forwarding.
    const moving = await BerthContainer.run(image, shared, { publish: false });
    await moving.ready();
    const problems = async () => {
      const { body } = await moving.admin<{ containers: ContainerView[] }>('/api/containers');
      return body.containers.find((c) => c.name === app.name)?.problems;
    };
    const seen = await waitFor(async () => {
      const found = await problems();
      return found !== undefined && found.length > 0 && found;
    }, { what: `${app.name} with a problem in /api/containers` });
    assert.deepEqual(seen.map((p) => p.code), ['BERTH_E_NETWORK_NOT_SHARED']);
    assert.match(seen[0]!.fix ?? '', new RegExp(`docker network connect ${other} ${moving.name}`));
    assert.deepEqual(await moving.endpointUrls(host), []);

    await docker('network', 'connect', other, moving.name);
    const otherIp = await containerIp(app.name, other);
    await waitFor(async () => (await moving.endpointUrls(host))[0] === `http://${otherIp}:80`, { what: `${host} routed on ${other}`, timeoutMs: 2000, intervalMs: 20 });
    assert.deepEqual(await problems(), []);
  });

  it('finds its own container by its mounts when --hostname hides the container id', async () => {
    const host = `${uniqueName('named')}.test`;
    const app = await runHttpd({ image: httpd, network: other, labels: { ...PORT_80, 'berth.host': host } });
    await docker('network', 'connect', shared, app.name);
    const sharedIp = await containerIp(app.name, shared);
    const named = await BerthContainer.run(image, shared, { args: ['--hostname', 'edge-proxy'], publish: false });
    await named.ready();
    await waitFor(async () => (await named.endpointUrls(host)).length > 0, { what: `a route for ${host} in the second berth` });
    assert.deepEqual(await named.endpointUrls(host), [`http://${sharedIp}:80`]);
    const found = (await named.logs()).find((line) => line['container'] === named.name);
    assert.deepEqual(found?.['networks'], [shared]);
  });

  it('works as an unprivileged user behind a socket proxy that lets through only the four GETs berth needs', async () => {
    const { folder, file } = engineSocket();
    const proxy = await runContainer({
      image: await nodeImage(),
      network: shared,
      cmd: ['node', '/proxy/socket-proxy.mjs', `/var/run/${file}`, '2375'],
      extraArgs: ['--volume', `${folder}:/var/run:ro`, '--volume', `${fixturePath('socket-proxy.mjs')}:/proxy/socket-proxy.mjs:ro`],
    });
    const host = `${uniqueName('proxied')}.test`;
    const app = await runHttpd({ image: httpd, network: shared, labels: { ...PORT_80, 'berth.host': host } });
    const behind = await BerthContainer.run(image, shared, { socket: false, args: ['--user', 'node', '--env', `BERTH_DOCKER_HOST=tcp://${proxy.name}:2375`, '--env', 'BERTH_SWARM=false'] });
    await behind.ready();
    const body = await waitFor(async () => {
      const response = await behind.request(host);
      return response.status === 200 && response.body;
    }, { what: `${host} answering through berth behind the proxy` });
    assert.equal(body, app.name);

    const asked = (await docker('logs', proxy.name)).split('\n').map((line) => JSON.parse(line) as { method: string; path: string; allowed: boolean });
    assert.deepEqual(asked.filter((request) => !request.allowed), [], 'berth asked only for what the proxy allows');
    assert.ok(asked.some((request) => request.path.endsWith('/events')) && asked.some((request) => request.path.endsWith('/containers/json')));
  });

  it('stops on docker stop with exit code 0 once an in-flight request is done', async () => {
    const host = `${uniqueName('slow')}.test`;
    // nc answers one request after a second, then the loop serves the next.
    await runContainer({
      image: httpd,
      network: shared,
      labels: { ...PORT_80, 'berth.host': host },
      cmd: ['sh', '-c', 'while true; do (sleep 1; printf "HTTP/1.0 200 OK\\r\\nContent-Length: 4\\r\\n\\r\\nslow") | nc -l -p 80 >/dev/null; done'],
      extraArgs: ['--init'],
    });
    await waitFor(async () => (await berth.endpointUrls(host)).length === 1, { what: 'the slow route' });
    const inFlight = berth.request(host, '/', 5000);
    await sleep(300);
    const stopping = Date.now();
    await docker('stop', berth.name);
    const stopMs = Date.now() - stopping;
    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.equal(response.body, 'slow');
    assert.equal(await docker('inspect', '-f', '{{.State.ExitCode}}', berth.name), '0');
    assert.ok(stopMs < 5000, `docker stop took ${stopMs} ms`);
    assert.ok((await berth.logs()).some((line) => line['msg'] === 'stopped'));
  });
});
