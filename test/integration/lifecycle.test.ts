// Containers coming, going, failing health checks and changing networks, with berth following.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBerth, startSyncedBerth, useBerth } from '../support/berth.js';
import { cleanup, containerIp, createNetwork, docker, runContainer, runHttpd, uniqueName, waitFor } from '../support/docker.js';
import { busyboxImage } from '../support/images.js';

const PORT_80 = { 'berth.port': '80' };

describe('following containers as they change', () => {
  const berth = useBerth();
  let image: string;
  before(async () => (image = await busyboxImage()));
  const endpointsOf = (host: string) => berth().endpointsOf(host);

  it('answers 503 for a container whose health check fails, and says why in /api/routes', async () => {
    const host = `${uniqueName('sick')}.test`;
    await runHttpd({ image, labels: { ...PORT_80, 'berth.host': host }, healthCmd: 'false', extraArgs: ['--health-retries', '1'] });
    const reason = await waitFor(async () => (await endpointsOf(host))[0]?.notReadyReason === 'health check failing' && 'failing', {
      what: 'the endpoint marked as failing its health check',
    });
    assert.equal(reason, 'failing');
    const response = await berth().request(host);
    assert.equal(response.status, 503);
  });

  it('routes a container with a passing health check once it is healthy', async () => {
    const host = `${uniqueName('healthy')}.test`;
    const app = await runHttpd({ image, labels: { ...PORT_80, 'berth.host': host }, healthCmd: 'true' });
    const body = await waitFor(async () => {
      const response = await berth().request(host);
      return response.status === 200 && response.body;
    }, { what: 'the healthy container answering' });
    assert.equal(body, app.name);
  });

  it('takes a stopped replica out of its pool with no failed request, and drops the route when the last one stops', async () => {
    const host = `${uniqueName('stop')}.test`;
    const leaving = await runHttpd({ image, labels: { ...PORT_80, 'berth.host': host } });
    const staying = await runHttpd({ image, labels: { ...PORT_80, 'berth.host': host } });
    await waitFor(async () => (await endpointsOf(host)).length === 2, { what: 'both replicas in the pool' });

    const statuses: number[] = [];
    let load = true;
    const traffic = (async () => {
      for (let i = 0; load && i < 5000; i++) statuses.push((await berth().request(host)).status);
    })();
    await sleep(100);
    await docker('stop', leaving.name);
    const stoppedAt = Date.now();
    await waitFor(async () => (await endpointsOf(host)).every((e) => e.container !== leaving.name), { what: 'the stopped replica gone', timeoutMs: 2000, intervalMs: 10 });
    const removalMs = Date.now() - stoppedAt;
    await sleep(100);
    load = false;
    await traffic;
    assert.ok(statuses.length > 20, `sent ${statuses.length} requests`);
    assert.deepEqual(statuses.filter((status) => status !== 200), [], 'every request during the stop succeeded');
    assert.ok(removalMs < 2000, `removed ${removalMs} ms after docker stop returned`);

    await docker('stop', staying.name);
    await waitFor(async () => (await berth().request(host)).status === 404, { what: 'the route gone with its last container', timeoutMs: 2000, intervalMs: 10 });
  });

  it('keeps the route on the chosen network when the container joins another one', async () => {
    const extra = await createNetwork('extra');
    const host = `${uniqueName('netjoin')}.test`;
    const app = await runHttpd({ image, labels: { ...PORT_80, 'berth.host': host, 'berth.network': 'bridge' } });
    const bridgeIp = await containerIp(app.name, 'bridge');
    await waitFor(async () => (await berth().request(host)).status === 200, { what: 'the container answering' });
    await docker('network', 'connect', extra, app.name);
    const extraIp = await containerIp(app.name, extra);
    await sleep(200);
    assert.deepEqual((await endpointsOf(host)).map((e) => e.url), [`http://${bridgeIp}:80`]);
    assert.equal((await berth().request(host)).body, app.name);
    assert.notEqual(extraIp, bridgeIp);
  });
});

describe('pausing a replica', () => {
  // A long resync: only the follow-up looks after the events can make these deadlines.
  const berth = useBerth(['--resync-interval', '60s']);
  let image: string;
  before(async () => (image = await busyboxImage()));

  /** The bodies of a few requests: who serves the host now. */
  async function servedBy(host: string): Promise<Set<string>> {
    const bodies = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const response = await berth().request(host);
      bodies.add(response.status === 200 ? response.body : String(response.status));
    }
    return bodies;
  }

  it('takes a paused replica out of its pool within a second, and puts it back within a second of unpause', async (t) => {
    const host = `${uniqueName('pause')}.test`;
    const [paused, other] = await Promise.all([0, 1].map(() => runHttpd({ image, labels: { ...PORT_80, 'berth.host': host } })));
    await waitFor(async () => (await endpointsReady(host)).length === 2, { what: 'both replicas ready' });
    const leave: number[] = [];
    const rejoin: number[] = [];
    for (let round = 0; round < 5; round++) {
      await docker('pause', paused!.name);
      let since = Date.now();
      await waitFor(async () => !(await endpointsReady(host)).includes(paused!.name), { what: 'the paused replica out of the pool', timeoutMs: 1000, intervalMs: 5 });
      leave.push(Date.now() - since);
      assert.deepEqual([...(await servedBy(host))], [other!.name]);
      const reason = (await berth().endpointsOf(host)).find((e) => e.container === paused!.name)?.notReadyReason;
      assert.equal(reason, 'container is paused');

      await docker('unpause', paused!.name);
      since = Date.now();
      await waitFor(async () => (await endpointsReady(host)).length === 2, { what: 'the unpaused replica back in the pool', timeoutMs: 1000, intervalMs: 5 });
      rejoin.push(Date.now() - since);
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    t.diagnostic(`paused replica out of its pool after ${leave.join(', ')} ms (median ${median(leave)} ms); back after unpause ${rejoin.join(', ')} ms (median ${median(rejoin)} ms)`);
    assert.deepEqual(await servedBy(host), new Set([paused!.name, other!.name]));
    assert.ok(!berth().logs.some((line) => line['code'] === 'BERTH_W_DOCKER_STREAM_SILENT'), 'no false alarm about the event stream');
  });

  async function endpointsReady(host: string): Promise<string[]> {
    return (await berth().endpointsOf(host)).filter((e) => e.ready).map((e) => e.container ?? '');
  }
});

describe('watching only the containers --constraint names', () => {
  const stack = `berth-test.stack-${process.pid}`;
  const berth = useBerth(['--constraint', `label=${stack}=prod`, '--constraint', `label=${stack}.managed`]);
  let image: string;
  before(async () => (image = await busyboxImage()));

  it('routes the containers that meet every constraint and neither routes nor lists the others', async () => {
    const [prod, dev, unmanaged] = ['prod', 'dev', 'unmanaged'].map((what) => `${uniqueName(what)}.test`) as [string, string, string];
    const app = await runHttpd({ image, labels: { ...PORT_80, 'berth.host': prod, [stack]: 'prod', [`${stack}.managed`]: 'yes' } });
    const others = await Promise.all([
      runHttpd({ image, labels: { ...PORT_80, 'berth.host': dev, [stack]: 'dev', [`${stack}.managed`]: 'yes' } }),
      runHttpd({ image, labels: { ...PORT_80, 'berth.host': unmanaged, [stack]: 'prod' } }),
    ]);
    const body = await waitFor(async () => {
      const response = await berth().request(prod);
      return response.status === 200 && response.body;
    }, { what: `${prod} answering` });
    assert.equal(body, app.name);
    // Events of the others still arrive; give them time to do harm if they could.
    await docker('pause', others[0].name);
    await sleep(300);
    assert.equal((await berth().request(dev)).status, 404);
    assert.equal((await berth().request(unmanaged)).status, 404);
    const { containers } = await berth().admin<{ containers: Array<{ name: string }> }>('/api/containers');
    assert.deepEqual(containers.map((c) => c.name), [app.name]);
  });
});

describe('network choice without a network label', () => {
  const berth = useBerth(['--network', 'bridge']);
  let image: string;
  before(async () => (image = await busyboxImage()));

  it('follows a container across network connect and disconnect, never picking at random', async () => {
    const extra = await createNetwork('move');
    const host = `${uniqueName('netmove')}.test`;
    const app = await runHttpd({ image, labels: { ...PORT_80, 'berth.host': host } });
    const urls = async () => (await berth().endpointsOf(host)).map((e) => e.url);
    const bridgeIp = await containerIp(app.name, 'bridge');
    await waitFor(async () => (await urls())[0] === `http://${bridgeIp}:80`, { what: 'the route on the bridge address' });

    await docker('network', 'connect', extra, app.name);
    await sleep(200);
    assert.deepEqual(await urls(), [`http://${bridgeIp}:80`], 'two networks: --network decides');

    await docker('network', 'disconnect', 'bridge', app.name);
    const extraIp = await containerIp(app.name, extra);
    await waitFor(async () => (await urls())[0] === `http://${extraIp}:80`, { what: 'the route moved to the remaining network' });
    assert.equal((await berth().request(host)).body, app.name);
  });
});

describe('a container joining the --network while running', () => {
  after(cleanup);

  it('moves the route to that network promptly, though Docker announces the join before listing it', async () => {
    const image = await busyboxImage();
    const chosen = await createNetwork('chosen');
    const berth = await startSyncedBerth(['--network', chosen]);
    try {
      const host = `${uniqueName('join')}.test`;
      const app = await runHttpd({ image, labels: { ...PORT_80, 'berth.host': host } });
      const bridgeIp = await containerIp(app.name, 'bridge');
      await waitFor(async () => (await berth.endpointsOf(host))[0]?.url === `http://${bridgeIp}:80`, { what: 'the route on the only network' });
      await docker('network', 'connect', chosen, app.name);
      const chosenIp = await containerIp(app.name, chosen);
      await waitFor(async () => (await berth.endpointsOf(host))[0]?.url === `http://${chosenIp}:80`, { what: 'the route on the chosen network', timeoutMs: 2000, intervalMs: 20 });
      assert.equal((await berth.request(host)).body, app.name);
      assert.ok(!berth.logs.some((line) => line['code'] === 'BERTH_W_DOCKER_STREAM_SILENT'), 'no false alarm about the event stream');
    } finally {
      await berth.stop();
    }
  });
});

describe('starting up', () => {
  after(cleanup);

  it('does not miss a container started while berth is starting', async () => {
    const image = await busyboxImage();
    const host = `${uniqueName('early')}.test`;
    const starting = startBerth();
    const app = await runHttpd({ image, labels: { ...PORT_80, 'berth.host': host } });
    const berth = await starting;
    try {
      const body = await waitFor(async () => {
        const response = await berth.request(host);
        return response.status === 200 && response.body;
      }, { what: 'the early container answering' });
      assert.equal(body, app.name);
    } finally {
      await berth.stop();
    }
  });

  it('finishes an in-flight request on SIGTERM and exits 0', async () => {
    const image = await busyboxImage();
    const host = `${uniqueName('slow')}.test`;
    // nc answers one request after a second, then the loop serves the next.
    await runContainer({
      image,
      labels: { ...PORT_80, 'berth.host': host },
      cmd: ['sh', '-c', 'while true; do (sleep 1; printf "HTTP/1.0 200 OK\\r\\nContent-Length: 4\\r\\n\\r\\nslow") | nc -l -p 80 >/dev/null; done'],
      extraArgs: ['--init'],
    });
    const berth = await startSyncedBerth();
    await waitFor(async () => (await berth.endpointsOf(host)).length === 1, { what: 'the slow route' });
    const inFlight = berth.request(host, '/', { timeoutMs: 5000 });
    await sleep(300);
    const exitCode = berth.stop();
    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.equal(response.body, 'slow');
    assert.equal(await exitCode, 0);
    assert.ok(berth.logs.some((line) => line.msg === 'stopped'));
  });
});

describe('without Docker', () => {
  it('says once, with the address tried, that Docker cannot be reached, and keeps retrying', async () => {
    const address = `unix:///tmp/${uniqueName('no-docker')}.sock`;
    const berth = await startBerth(['--docker-host', address]);
    try {
      const status = await waitFor(async () => {
        const { sources: { docker: state } } = await berth.admin<{ sources: { docker: { reconnects: number; lastError: { code: string } | null } } }>('/api/status');
        return state.reconnects >= 3 && state;
      }, { what: 'three reconnect attempts' });
      assert.equal(status.lastError?.code, 'BERTH_E_DOCKER_UNREACHABLE');
      const unreachable = berth.logs.filter((line) => line['code'] === 'BERTH_E_DOCKER_UNREACHABLE');
      assert.equal(unreachable.length, 1, 'logged once per outage, not per attempt');
      assert.equal(unreachable[0]?.['address'], address);
      assert.equal((await berth.request('anything.test')).status, 404);
      assert.equal((await berth.adminStatus('/readyz')), 503);
    } finally {
      assert.equal(await berth.stop(), 0);
    }
  });
});
