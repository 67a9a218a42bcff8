// A two-node swarm on one machine: the test engine as manager, a second dockerd in its own network
// namespace as worker. berth on the manager routes tasks placed on the worker over the overlay,
// and berth pointed at the worker says why it sees no services.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { docker, httpGet, uniqueName, waitFor } from '../support/docker.js';
import { startSyncedBerth } from '../support/berth.js';
import { berthImage, busyboxImage } from '../support/images.js';
import { freeLoopbackPort } from '../support/ports.js';
import { createOverlay, createService, ensureSwarm, leaveSwarm, taskContainers } from '../support/swarm.js';
import { WorkerDockerd } from '../support/worker-dockerd.js';

interface SwarmStatus {
  state: string;
  active: boolean;
  role: { state: string; manager: boolean } | null;
  problems: Array<{ code: string; message: string }>;
}

const HTTPD = ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www'];

describe('a swarm with a worker node in its own network namespace', () => {
  let worker: WorkerDockerd | undefined;
  let madeHere = false;
  let httpd: string;
  let network: string;
  let port: number;

  before(async () => {
    const [image, busybox, started] = await Promise.all([berthImage(), busyboxImage(), WorkerDockerd.start()]);
    worker = started;
    httpd = busybox;
    // The worker reaches the manager at the host's end of its veth pair, so the swarm advertises that.
    madeHere = await ensureSwarm(worker.hostAddress);
    if (!madeHere) return;
    const token = await docker('swarm', 'join-token', '--quiet', 'worker');
    await worker.docker('swarm', 'join', '--token', token, '--advertise-addr', worker.workerAddress, `${worker.hostAddress}:2377`);
    await worker.importImage(httpd);
    network = await createOverlay('edge');
    port = await freeLoopbackPort();
    await createService(uniqueName('berth'), [
      '--network', network,
      '--publish', `mode=host,published=${port},target=80`,
      '--mount', 'type=bind,source=/var/run,target=/var/run,readonly',
      '--constraint', 'node.role == manager',
      '--health-interval', '1s',
      image,
    ]);
  });

  after(async () => {
    await worker?.destroy();
    await leaveSwarm();
  });

  it('routes a service whose tasks all run on the worker, over the overlay network', async (t) => {
    if (!madeHere) return t.skip('the engine was in a swarm already, advertising an address the worker may not reach');
    const web = uniqueName('far');
    const host = `${web}.test`;
    await createService(web, ['--network', network, '--replicas', '2', '--init', '--constraint', 'node.role == worker', '--label', `berth.host=${host}`, '--label', 'berth.port=80', httpd, ...HTTPD]);
    const answered = new Set<string>();
    await waitFor(async () => {
      const response = await httpGet(`http://127.0.0.1:${port}/`, { host, timeoutMs: 1000 });
      if (response.status === 200) answered.add(response.body.trim());
      return answered.size === 2;
    }, { what: `both worker tasks of ${web} answering through berth on the manager`, timeoutMs: 60_000, intervalMs: 50 });
    const onWorker = (await worker!.docker('ps', '--filter', `label=com.docker.swarm.service.name=${web}`, '--format', '{{.ID}}')).split('\n');
    assert.deepEqual([...answered].sort(), onWorker.sort());
    assert.deepEqual(await taskContainers(web), [], 'no task of it runs on the manager');
  });

  it('pointed at the worker engine, says swarm services are only visible on managers', async (t) => {
    if (!madeHere) return t.skip('the engine was in a swarm already');
    const berth = await startSyncedBerth(['--docker-host', worker!.host]);
    try {
      const status = (await berth.admin<{ sources: { swarm: SwarmStatus } }>('/api/status')).sources.swarm;
      assert.equal(status.state, 'invalid');
      assert.equal(status.active, false);
      assert.deepEqual(status.role && { state: status.role.state, manager: status.role.manager }, { state: 'active', manager: false });
      assert.deepEqual(status.problems.map((problem) => problem.code), ['BERTH_E_SWARM_WORKER']);
      assert.match(status.problems[0]!.message, /only visible on managers: constrain berth to node.role == manager, or point DOCKER_HOST at a manager/);
    } finally {
      await berth.stop();
    }
  });
});
