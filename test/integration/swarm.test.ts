// berth as a swarm service on a real single-node swarm: it routes a labelled service over its
// tasks, loses no request while it is scaled down, follows a label update and a removal.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { docker, httpGet, uniqueName, waitFor } from '../support/docker.js';
import { berthImage, busyboxImage } from '../support/images.js';
import { freeLoopbackPort } from '../support/ports.js';
import { repoRoot } from '../support/repo.js';
import { createOverlay, createService, deployStack, ensureSwarm, leaveSwarm, taskContainers } from '../support/swarm.js';

/** Prints {status, body} of a GET on the admin API, from inside berth's task container (loopback there). */
const ADMIN_GET = `require('http').get({ host: '127.0.0.1', port: 8081, path: process.argv[1] }, (res) => {
  let body = '';
  res.setEncoding('utf8').on('data', (chunk) => (body += chunk)).on('end', () => process.stdout.write(JSON.stringify({ status: res.statusCode, body })));
}).on('error', (err) => { process.stderr.write(err.message); process.exit(1); });`;

interface ServiceView {
  name: string;
  lb: string;
  routes: Array<{ host: string; address: string }>;
  tasks: Array<{ name: string; ready: boolean; notReadyReason: string | null }>;
  problems: Array<{ code: string }>;
}

interface SwarmStatus {
  state: string;
  active: boolean;
  routes: number;
}

/** The socket's folder, mounted into berth's task as the README shows. */
function engineSocket(): { folder: string; file: string } {
  const url = process.env['DOCKER_HOST'] || 'unix:///var/run/docker.sock';
  if (!url.startsWith('unix://')) throw new Error(`these tests mount the engine's socket into berth's task; DOCKER_HOST=${url} is not a socket`);
  const path = url.slice('unix://'.length);
  return { folder: path.slice(0, path.lastIndexOf('/')) || '/', file: path.slice(path.lastIndexOf('/') + 1) };
}

/** A busybox httpd whose page is its container's hostname, so each answer says which task sent it. */
const HTTPD = ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www'];

describe('berth as a swarm service, on a single-node swarm', () => {
  let network: string;
  let berth: string;
  let port: number;
  let httpd: string;
  let image: string;
  const web = uniqueName('web');
  const host = `${web}.test`;
  const moved = `${uniqueName('moved')}.test`;
  let createdAt = 0;

  const request = (name: string, timeoutMs = 3000) => httpGet(`http://127.0.0.1:${port}/`, { host: name, timeoutMs });
  const admin = async <T>(path: string): Promise<T> => {
    const [task] = await taskContainers(berth);
    if (task === undefined) throw new Error('berth has no running task yet');
    const { status, body } = JSON.parse(await docker('exec', task, 'node', '-e', ADMIN_GET, path)) as { status: number; body: string };
    if (status !== 200) throw new Error(`admin ${path} answered ${status}`);
    return JSON.parse(body) as T;
  };
  const service = async (name: string) => (await admin<{ services: ServiceView[] }>('/api/services')).services.find((entry) => entry.name === name);

  before(async () => {
    [image, httpd] = await Promise.all([berthImage(), busyboxImage(), ensureSwarm()]);
    network = await createOverlay('edge');
    berth = uniqueName('berth');
    port = await freeLoopbackPort();
    const { folder, file } = engineSocket();
    // The routing mesh (ingress) needs IPVS, which this machine's kernel lacks: the port is published on the node itself.
    await createService(berth, [
      '--network', network,
      '--publish', `mode=host,published=${port},target=80`,
      '--mount', `type=bind,source=${folder},target=/var/run,readonly`,
      '--env', `BERTH_DOCKER_HOST=unix:///var/run/${file}`,
      '--constraint', 'node.role == manager',
      '--health-interval', '1s',
      image,
    ]);
    await waitFor(async () => (await admin<SwarmStatus & { sources: { swarm: SwarmStatus } }>('/api/status')).sources.swarm.active, { what: 'berth following the swarm', timeoutMs: 60_000, intervalMs: 200 });
  });

  after(async () => {
    await leaveSwarm();
  });

  it('balances a 3-replica labelled service over its three tasks', async (t) => {
    createdAt = Date.now();
    await createService(web, ['--network', network, '--replicas', '3', '--init', '--label', `berth.host=${host}`, '--label', 'berth.port=80', httpd, ...HTTPD]);
    await waitFor(async () => (await request(host, 1000)).status === 200, { what: `${host} answering through berth`, timeoutMs: 30_000, intervalMs: 20 });
    t.diagnostic(`first 200 ${Date.now() - createdAt} ms after docker service create`);
    // All three tasks in the pool, each reached on its address on the overlay berth shares.
    const view = await waitFor(async () => {
      const current = await service(web);
      return current !== undefined && current.routes.length === 3 && current.tasks.filter((task) => task.ready).length === 3 && current;
    }, { what: 'three ready tasks in the pool', timeoutMs: 30_000, intervalMs: 100 });
    assert.equal(view.lb, 'tasks');
    assert.deepEqual(view.problems, []);
    const answered = new Set<string>();
    for (let i = 0; i < 30; i++) answered.add((await request(host)).body.trim());
    assert.equal(answered.size, 3, `answers came from ${[...answered].join(', ')}`);
    const tasks = await taskContainers(web);
    for (const body of answered) assert.ok(tasks.some((id) => id.startsWith(body) || body.startsWith(id)), `${body} is one of the tasks' containers`);
    const status = (await admin<{ sources: { swarm: SwarmStatus; docker: { routes: number } } }>('/api/status')).sources;
    assert.equal(status.swarm.state, 'ok');
    assert.ok(status.swarm.routes >= 3);
  });

  it('keeps a task with a failing health check out of its pool until it passes', async (t) => {
    const checked = uniqueName('checked');
    const checkedHost = `${checked}.test`;
    t.after(() => docker('service', 'rm', checked).then(() => undefined, () => undefined));
    await createService(checked, ['--network', network, '--init', '--health-cmd', 'test -f /www/ok', '--health-interval', '500ms', '--health-retries', '100', '--label', `berth.host=${checkedHost}`, '--label', 'berth.port=80', httpd, ...HTTPD]);
    // Swarm holds the task at "starting" while its check fails; berth has its route, with no ready endpoint.
    const starting = await waitFor(async () => {
      const current = await service(checked);
      return current?.tasks.length === 1 && current.tasks[0]!.notReadyReason === 'task is starting' && current;
    }, { what: `${checked}'s task listed as starting`, timeoutMs: 30_000, intervalMs: 100 });
    assert.equal(starting.routes.length, 1);
    assert.equal((await request(checkedHost)).status, 503);
    const container = await waitFor(async () => (await taskContainers(checked))[0], { what: `${checked}'s container`, timeoutMs: 10_000, intervalMs: 100 });
    await docker('exec', container, 'touch', '/www/ok');
    await waitFor(async () => (await request(checkedHost, 1000)).status === 200, { what: `${checkedHost} answering once healthy`, timeoutMs: 15_000, intervalMs: 50 });
  });

  it('loses no request while the service is scaled from 3 to 1 under load', async (t) => {
    let stop = false;
    const failures: string[] = [];
    let sent = 0;
    const worker = async () => {
      // Bounded in count and time, whatever happens to the scale.
      const until = Date.now() + 40_000;
      while (!stop && sent < 20_000 && Date.now() < until) {
        sent++;
        try {
          const response = await request(host);
          if (response.status !== 200) failures.push(`${response.status} ${response.body.slice(0, 80)}`);
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    };
    const load = Promise.all([worker(), worker(), worker(), worker()]);
    await docker('service', 'scale', '--detach=false', `${web}=1`);
    await waitFor(async () => (await taskContainers(web)).length === 1 && (await service(web))?.routes.length === 1, { what: 'one task left', timeoutMs: 30_000, intervalMs: 100 });
    // A moment more of load on the one task left.
    await new Promise((resolve) => setTimeout(resolve, 500));
    stop = true;
    await load;
    t.diagnostic(`${sent} requests during the scale-down, ${failures.length} failed`);
    assert.deepEqual(failures, []);
    assert.ok(sent > 50, `only ${sent} requests were sent`);
  });

  it('follows a label update within a couple of seconds', async (t) => {
    const started = Date.now();
    await docker('service', 'update', '--detach', '--label-add', `berth.host=${moved}`, web);
    await waitFor(async () => (await request(moved, 1000)).status === 200 && (await request(host, 1000)).status === 404, { what: `${moved} routed instead of ${host}`, timeoutMs: 10_000, intervalMs: 20 });
    const took = Date.now() - started;
    t.diagnostic(`label update followed in ${took} ms`);
    assert.ok(took < 3000, `followed after ${took} ms`);
  });

  it('drops the routes when the service is removed', async () => {
    await docker('service', 'rm', web);
    await waitFor(async () => (await service(web)) === undefined, { what: `${web} gone from /api/services`, timeoutMs: 10_000, intervalMs: 50 });
    assert.equal((await admin<{ sources: { swarm: SwarmStatus } }>('/api/status')).sources.swarm.routes, 0);
    assert.equal((await request(moved)).status, 404);
  });

  it('routes the labelled service of compose.swarm.yml deployed with docker stack deploy', async () => {
    const stack = uniqueName('stack');
    const [http, https] = await Promise.all([freeLoopbackPort(), freeLoopbackPort()]);
    await deployStack(join(repoRoot(), 'compose.swarm.yml'), stack, { BERTH_IMAGE: image, DEMO_IMAGE: httpd, BERTH_HTTP_PORT: String(http), BERTH_HTTPS_PORT: String(https) });
    const answered = new Set<string>();
    await waitFor(async () => {
      const response = await httpGet(`http://127.0.0.1:${http}/`, { host: 'web.localhost', timeoutMs: 1000 });
      if (response.status === 200) answered.add(response.body.trim());
      return answered.size === 2;
    }, { what: "both of the stack's web tasks answering through the stack's berth", timeoutMs: 60_000, intervalMs: 50 });
    assert.deepEqual([...answered].sort(), (await taskContainers(`${stack}_web`)).map((id) => id.slice(0, 12)).sort());
  });
});
