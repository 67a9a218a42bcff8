// The swarm source over a fake engine: its role decides what it does, its re-lists are coalesced
// and single-flight, and a stopping task leaves its pool at once. The real swarm is in
// test/integration/swarm.test.ts; a worker node and exact call counts are what it cannot show.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { DockerClient, EventHandlers } from '../../src/docker/client.js';
import type { ContainerSummary } from '../../src/docker/container.js';
import type { DockerEvent } from '../../src/docker/events.js';
import { fixedLocator } from '../../src/docker/own.js';
import { RouteStore } from '../../src/routes/store.js';
import type { ServiceSummary, SwarmRole, TaskSummary } from '../../src/swarm/engine.js';
import { SwarmProvider, WORKER_MESSAGE } from '../../src/swarm/provider.js';
import { SERVICE_FOLLOW_UPS_MS } from '../../src/swarm/watch.js';
import { TASK_ID_LABEL, SERVICE_ID_LABEL } from '../../src/swarm/snapshot.js';
import { systemClock } from '../../src/util/clock.js';
import { providerOver } from '../support/provider.js';

const MANAGER: SwarmRole = { state: 'active', manager: true, nodeId: 'n1' };

function web(tasks: number): { services: ServiceSummary[]; tasks: TaskSummary[] } {
  return {
    services: [{ id: 's1', name: 'web', labels: { 'berth.host': 'web.test', 'berth.port': '80' }, mode: 'replicated', replicas: tasks, endpointMode: 'vip', virtualIps: {}, ports: [] }],
    tasks: Array.from({ length: tasks }, (_, i) => ({ id: `t${i + 1}`, serviceId: 's1', slot: i + 1, nodeId: 'n1', state: 'running', desiredState: 'running', containerId: `c${i + 1}`, networks: { edge: `10.0.1.${i + 11}` } })),
  };
}

/** An engine whose role and lists the test sets; it counts lists and the most that ran at once. */
function fakeEngine(role: SwarmRole, answer = web(3)) {
  let handlers: EventHandlers | undefined;
  let types: readonly string[] = [];
  const engine = { role, answer, lists: 0, running: 0, mostAtOnce: 0, delayMs: 0 };
  const client: DockerClient = {
    connect: async () => '1.41',
    swarmRole: async () => engine.role,
    async listServices() {
      engine.lists++;
      engine.running++;
      engine.mostAtOnce = Math.max(engine.mostAtOnce, engine.running);
      await new Promise((resolve) => setTimeout(resolve, engine.delayMs));
      engine.running--;
      return engine.answer.services;
    },
    listTasks: async () => engine.answer.tasks,
    listNetworks: async () => [],
    listContainers: async () => [],
    async openEvents(given, asked = []) {
      handlers = given;
      types = asked;
      return { ended: new Promise<string>(() => undefined), close: () => undefined };
    },
    watchForDaemon: () => () => undefined,
  };
  return { engine, client, types: () => types, send: (event: DockerEvent) => handlers!.onEvent(event) };
}

function swarmOver(client: DockerClient, store = new RouteStore(['swarm']), mode: 'auto' | 'on' = 'auto', pollMs = 60_000): SwarmProvider {
  return new SwarmProvider({
    client,
    address: 'unix:///run/docker.sock',
    mode,
    routing: { labelPrefix: 'berth', domain: null, exposedByDefault: true, network: null },
    store,
    logger: pino({ level: 'silent' }),
    pollMs,
    roleCheckMs: 60_000,
    reconnect: { initialMs: 100, maxMs: 1000 },
    locator: fixedLocator(),
    clock: systemClock,
  });
}

const event = (type: string, action: string, attributes: Record<string, string> = {}, id = 'x'): DockerEvent => ({ type, action, containerId: id, signal: attributes['signal'] ?? null, time: null, attributes });

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(check(), 'condition not reached');
}

describe('swarm source', () => {
  it('on a worker node says services are only visible on managers, with a code, and lists nothing', async () => {
    const { engine, client } = fakeEngine({ state: 'active', manager: false, nodeId: 'w1' });
    const swarm = swarmOver(client);
    await swarm.start();
    await swarm.whenSynced();
    const status = swarm.status;
    assert.equal(status.state, 'invalid');
    assert.equal(status.active, false);
    assert.deepEqual(status.problems.map((problem) => [problem.code, problem.message]), [['BERTH_E_SWARM_WORKER', WORKER_MESSAGE]]);
    assert.equal(engine.lists, 0);
    await swarm.stop();
  });

  it('off a swarm stays quiet in auto mode, and says so when swarm was asked for', async () => {
    for (const [mode, codes] of [['auto', []], ['on', ['BERTH_E_SWARM_INACTIVE']]] as const) {
      const { engine, client } = fakeEngine({ state: 'inactive', manager: false, nodeId: null });
      const swarm = swarmOver(client, new RouteStore(['swarm']), mode);
      await swarm.start();
      await swarm.whenSynced();
      assert.deepEqual(swarm.status.problems.map((problem) => problem.code), codes, mode);
      assert.equal(swarm.status.state, codes.length === 0 ? 'ok' : 'invalid');
      assert.equal(engine.lists, 0);
      await swarm.stop();
    }
  });

  it('behind a socket proxy that refuses /info stays quiet and ready in auto mode', async () => {
    const { engine, client } = fakeEngine(MANAGER);
    client.swarmRole = async () => {
      throw Object.assign(new Error('(HTTP code 403) unexpected - blocked by the proxy'), { statusCode: 403 });
    };
    const swarm = swarmOver(client);
    await swarm.start();
    await swarm.whenSynced();
    assert.equal(swarm.status.state, 'ok');
    assert.deepEqual(swarm.status.problems, []);
    assert.equal(swarm.status.active, false);
    assert.equal(engine.lists, 0);
    await swarm.stop();
  });

  it('is ready, and down, when the manager refuses to list services, and asks again only slowly', async () => {
    const { client } = fakeEngine(MANAGER);
    let asked = 0;
    client.listServices = async () => {
      asked++;
      throw Object.assign(new Error('(HTTP code 403) unexpected - blocked by the proxy'), { statusCode: 403 });
    };
    const swarm = swarmOver(client);
    await swarm.start();
    await swarm.whenSynced();
    assert.equal(swarm.status.state, 'down');
    assert.equal(swarm.status.lastError?.code, 'BERTH_E_SWARM_LIST');
    // A refusal is an answer: no reconnect storm against it (the next look is a role check away).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(asked, 1);
    await swarm.stop();
  });

  it('on a manager routes each task, follows service, container and network events and lists them in one flight', async () => {
    const { engine, client, types, send } = fakeEngine(MANAGER);
    const store = new RouteStore(['swarm']);
    const swarm = swarmOver(client, store);
    await swarm.start();
    await swarm.whenSynced();
    assert.deepEqual([...types()].sort(), ['container', 'network', 'service']);
    assert.equal(swarm.status.active, true);
    assert.deepEqual(store.current.pools.map((pool) => pool.endpoints.length), [3]);
    engine.delayMs = 20;
    engine.answer = web(1);
    const before = engine.lists;
    for (let i = 0; i < 20; i++) send(event('service', 'update'));
    await until(() => store.current.pools[0]?.endpoints.length === 1);
    // The burst's list and one more, then the follow-up looks of a single event.
    await new Promise((resolve) => setTimeout(resolve, SERVICE_FOLLOW_UPS_MS.at(-1)! + 200));
    await until(() => engine.running === 0);
    assert.ok(engine.lists - before <= 2 + SERVICE_FOLLOW_UPS_MS.length, `${engine.lists - before} lists for 20 events`);
    assert.equal(engine.mostAtOnce, 1);
    // Events that cannot change a route are not followed by a list.
    const quiet = engine.lists;
    send(event('service', 'something-else'));
    send(event('container', 'start', { name: 'not-a-task' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(engine.lists, quiet);
    await swarm.stop();
  });

  it('looks again shortly after a service event, as the orchestrator acts on it a moment later', async () => {
    const { engine, client, send } = fakeEngine(MANAGER);
    const store = new RouteStore(['swarm']);
    const swarm = swarmOver(client, store);
    await swarm.start();
    await swarm.whenSynced();
    send(event('service', 'update'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Tasks set to shut down after the event's own list: no poll is due for a minute.
    engine.answer = web(1);
    await until(() => store.current.pools[0]?.endpoints.length === 1, 1500);
    await swarm.stop();
  });

  it('polls the tasks, which have no events of their own', async () => {
    const { engine, client } = fakeEngine(MANAGER);
    const store = new RouteStore(['swarm']);
    const swarm = swarmOver(client, store, 'auto', 30);
    await swarm.start();
    await swarm.whenSynced();
    engine.answer = web(2);
    await until(() => store.current.pools[0]?.endpoints.length === 2);
    assert.ok(swarm.status.polls >= 1);
    await swarm.stop();
  });

  it('takes a task out of its pool as soon as its container is told to stop', async () => {
    const { client, send } = fakeEngine(MANAGER);
    const store = new RouteStore(['swarm']);
    const swarm = swarmOver(client, store);
    await swarm.start();
    await swarm.whenSynced();
    send(event('container', 'kill', { [TASK_ID_LABEL]: 't2', signal: '15' }, 'c2'));
    await until(() => store.current.pools[0]?.endpoints.some((endpoint) => !endpoint.ready) === true);
    assert.deepEqual(store.current.pools[0]!.endpoints.map((endpoint) => endpoint.ready), [true, false, true]);
    await swarm.stop();
  });
});

describe('Docker source beside an active swarm source', () => {
  const task: ContainerSummary = { id: 'c1', name: 'web.1.abc', labels: { [SERVICE_ID_LABEL]: 's1', 'berth.host': 'web.test' }, state: 'running', status: 'Up', health: null, ports: [80], networks: { edge: '10.0.1.11' }, networkMode: 'default' };
  const plain: ContainerSummary = { ...task, id: 'c2', name: 'plain', labels: { 'berth.host': 'plain.test' } };
  // An engine that lists the two and sends no events.
  const client: DockerClient = {
    connect: async () => '1.41',
    listContainers: async () => [task, plain],
    openEvents: async () => ({ ended: new Promise<string>(() => undefined), close: () => undefined }),
    watchForDaemon: () => () => undefined,
  };

  for (const active of [true, false]) {
    it(active ? 'leaves task containers to the swarm source' : 'routes task containers while no swarm source is active', async () => {
      const store = new RouteStore(['docker']);
      const docker = providerOver(client, { store, swarmActive: () => active });
      await docker.start();
      await docker.whenSynced();
      assert.deepEqual(store.current.pools.map((pool) => pool.host).sort(), active ? ['plain.test'] : ['plain.test', 'web.test']);
      await docker.stop();
    });
  }

  it('hands task containers over when the swarm source turns active after the Docker source synced', async () => {
    const store = new RouteStore(['docker']);
    let active = false;
    const docker = providerOver(client, { store, swarmActive: () => active });
    await docker.start();
    await docker.whenSynced();
    assert.deepEqual(store.current.pools.map((pool) => pool.host).sort(), ['plain.test', 'web.test']);
    active = true;
    docker.swarmChanged();
    assert.deepEqual(store.current.pools.map((pool) => pool.host), ['plain.test'], 'no Docker event or resync needed');
    await docker.stop();
  });
});
