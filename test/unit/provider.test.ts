import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { DockerClient, EventHandlers, ListFilter } from '../../src/docker/client.js';
import type { ContainerSummary } from '../../src/docker/container.js';
import { fixedLocator } from '../../src/docker/own.js';
import { providerOver } from '../support/provider.js';

const OWN = 'f'.repeat(64);

function container(id: string, overrides: Partial<ContainerSummary> = {}): ContainerSummary {
  return { id, name: `c-${id}`, labels: {}, state: 'running', status: 'Up', health: null, ports: [80], networks: { front: '10.0.1.9' }, networkMode: 'bridge', ...overrides };
}

/** A daemon whose list the test sets, recording the filters asked for; events are sent by hand. */
function fakeDaemon(list: (filter: ListFilter) => ContainerSummary[]) {
  const filters: ListFilter[] = [];
  let handlers: EventHandlers | undefined;
  const client: DockerClient = {
    connect: async () => '1.41',
    async listContainers(filter = {}) {
      filters.push(filter);
      return list(filter);
    },
    async openEvents(given) {
      handlers = given;
      return { ended: new Promise<string>(() => undefined), close: () => undefined };
    },
    watchForDaemon: () => () => undefined,
  };
  return { client, filters, send: (event: Parameters<EventHandlers['onEvent']>[0]) => handlers!.onEvent(event) };
}

const provider = providerOver;

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(check(), 'condition not reached');
}

describe('DockerProvider', () => {
  it('asks Docker for the constrained containers only, and for its own container apart when they leave it out', async () => {
    const app = container('a1', { labels: { 'berth.host': 'app.test', stack: 'prod' } });
    const own = container(OWN, { name: 'berth', networks: { front: '10.0.1.5' }, gateways: { front: '10.0.1.1' } });
    const daemon = fakeDaemon((filter) => (filter.id !== undefined ? [own] : [app]));
    const docker = provider(daemon.client, { constraints: [{ label: 'stack', value: 'prod' }], locator: fixedLocator(OWN) });
    docker.start();
    try {
      await docker.whenSynced();
      assert.deepEqual(daemon.filters, [{ labels: ['stack=prod'] }, { id: OWN }]);
      assert.deepEqual(docker.containers.map((report) => [report.name, report.routes.map((route) => route.address)]), [['c-a1', ['10.0.1.9']]]);
    } finally {
      docker.stop();
    }
  });

  it('ignores events of containers that do not meet the constraints', async () => {
    const daemon = fakeDaemon(() => []);
    const docker = provider(daemon.client, { constraints: [{ label: 'stack', value: 'prod' }] });
    docker.start();
    try {
      await docker.whenSynced();
      daemon.send({ type: 'container', action: 'start', containerId: 'x', signal: null, time: null, attributes: { stack: 'dev' } });
      daemon.send({ type: 'network', action: 'connect', containerId: 'x', signal: null, time: null, attributes: { container: 'x', name: 'front' } });
      await nextTurn();
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(daemon.filters.length, 1, 'no list after the events');
      daemon.send({ type: 'container', action: 'start', containerId: 'y', signal: null, time: null, attributes: { stack: 'prod' } });
      await until(() => daemon.filters.length >= 2);
    } finally {
      docker.stop();
    }
  });

  it('looks again after a pause until the list shows the container paused, then stops looking', async () => {
    let lists = 0;
    const daemon = fakeDaemon(() => {
      lists++;
      // The list lags the event by two looks.
      return [container('p1', { labels: { 'berth.host': 'app.test' }, state: lists >= 4 ? 'paused' : 'running' })];
    });
    const docker = provider(daemon.client);
    docker.start();
    try {
      await docker.whenSynced();
      const pausedAt = Date.now();
      daemon.send({ type: 'container', action: 'pause', containerId: 'p1', signal: null, time: null, attributes: {} });
      await until(() => docker.containers[0]?.ready === false);
      const tookMs = Date.now() - pausedAt;
      assert.equal(docker.containers[0]?.notReadyReason, 'container is paused');
      assert.ok(tookMs < 400, `seen paused after ${tookMs} ms`);
      const seen = lists;
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.equal(lists, seen, 'no more looks once the list agrees');
    } finally {
      docker.stop();
    }
  });
});
