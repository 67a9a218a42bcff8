// The table side of scale, in-process: 10,000 synthetic container summaries -> a table (time and
// memory per route), and one changed entry among 10,000 routes of a store source -> the new table
// in force in this process and in a worker's (the store, the table build, the pool diff, and the
// listeners berth attaches: change recording, health checks, the message to --workers).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { recordChanges } from '../src/admin/changes.js';
import { RoutesFeed, type RoutesMessage } from '../src/cluster/routes-feed.js';
import { applySpecsChanges } from '../src/cluster/routes-feed.js';
import type { ContainerSummary } from '../src/docker/container.js';
import { snapshot, type Snapshot } from '../src/docker/snapshot.js';
import { parseRouteEntry } from '../src/file/parse.js';
import { HealthChecker } from '../src/health/checker.js';
import { RouteStore } from '../src/routes/store.js';
import type { RouteSpec } from '../src/routes/types.js';
import { SOURCE_ORDER } from '../src/sources/source.js';
import type { Benchmark, BenchContext, TargetResult } from './benchmark.js';
import { median } from './stats.js';
import { bytes, markdownTable, ms } from './table.js';

const ROUTES = 10_000;
const SUMMARIES_TARGET_MS = 200;
const BYTES_PER_ROUTE_TARGET = 2048;
const CHANGE_TARGET_MS = 50;
const ROUTING = { labelPrefix: 'berth', domain: null, exposedByDefault: true, network: null, own: null } as const;

export const rebuild: Benchmark = {
  name: 'rebuild',
  title: 'Table rebuilds at 10,000 routes (in-process)',
  docker: false,
  async run(context: BenchContext): Promise<TargetResult[]> {
    const rounds = context.quick ? 5 : 15;
    const summaries = Array.from({ length: ROUTES }, (_, i) => summary(i));
    const fromSummaries = Array.from({ length: rounds }, () => timeMs(() => tableOf(summaries)));
    const perRoute = memoryPerRoute(summaries);
    const dockerChange = await oneContainerChanged(summaries, rounds);
    const storeChange = await oneEntryChanged(rounds);
    const summariesMs = median(fromSummaries);
    const changeMs = median(storeChange.total);
    console.log(`${rounds} rounds each, median; ${ROUTES.toLocaleString('en')} routes, one per container or entry.\n`);
    console.log(
      markdownTable(
        ['measure', 'value'],
        [
          ['10,000 container summaries -> snapshot -> table (empty store)', ms(summariesMs)],
          ['heap after GC per route (store, table and the container reports)', bytes(perRoute)],
          ['one container of 10,000 changed: snapshot -> table', ms(median(dockerChange))],
          ['one store entry of 10,000 changed: store.update with the listeners (this process)', ms(median(storeChange.primary))],
          ['of which: message to a worker (built, as JSON through the channel), applied there', ms(median(storeChange.worker))],
          ['one store entry of 10,000 changed -> live here and in a worker', ms(changeMs)],
        ],
      ),
    );
    return [
      { target: `10,000 container summaries -> table < ${SUMMARIES_TARGET_MS} ms`, measured: ms(summariesMs), met: summariesMs < SUMMARIES_TARGET_MS },
      { target: '10,000 container summaries: < 2 KiB per route (heap after GC)', measured: bytes(perRoute), met: perRoute < BYTES_PER_ROUTE_TARGET },
      { target: `one changed store entry among 10,000 -> live (table side) < ${CHANGE_TARGET_MS} ms`, measured: ms(changeMs), met: changeMs < CHANGE_TARGET_MS },
    ];
  },
};

function summary(i: number, port = 8080): ContainerSummary {
  return {
    id: `${i.toString(16).padStart(12, '0')}${'0'.repeat(52)}`,
    name: `app-${i}`,
    labels: { 'berth.host': `app-${i}.bench.test`, 'berth.port': String(port), 'com.docker.compose.project': 'bench', 'com.docker.compose.service': `app-${i}` },
    state: 'running',
    status: 'Up 2 minutes',
    health: null,
    ports: [port],
    networks: { bench: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
    networkMode: 'bench',
  };
}

function tableOf(summaries: readonly ContainerSummary[], store = new RouteStore(SOURCE_ORDER)): { store: RouteStore; snap: Snapshot } {
  const snap = snapshot(summaries, null, new Set(), ROUTING);
  store.update('docker', snap.routes);
  return { store, snap };
}

/** What berth keeps per route from a container list: the store, its table and the provider's reports. */
function memoryPerRoute(summaries: readonly ContainerSummary[]): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const before = heap();
  const kept = tableOf(summaries);
  const after = heap();
  if (kept.store.current.pools.length !== summaries.length) throw new Error(`${kept.store.current.pools.length} pools for ${summaries.length} containers`);
  return (after - before) / summaries.length;
}

async function oneContainerChanged(summaries: readonly ContainerSummary[], rounds: number): Promise<number[]> {
  const { store } = tableOf(summaries);
  const times: number[] = [];
  let list = [...summaries];
  for (let round = 0; round < rounds; round++) {
    const i = (round * 7919) % list.length;
    list = list.map((container, j) => (j === i ? summary(i, 8081 + round) : container));
    times.push(timeMs(() => tableOf(list, store)));
  }
  return times;
}

/**
 * A store source's entries are parsed one by one (parseRouteEntry) and only the changed one again;
 * what is timed starts at the store's update with the new list.
 */
async function oneEntryChanged(rounds: number): Promise<{ primary: number[]; worker: number[]; total: number[] }> {
  const logger = pino({ level: 'silent' });
  const store = new RouteStore(SOURCE_ORDER);
  recordChanges(store);
  const health = new HealthChecker({ store, logger, probe: () => new Promise(() => {}) });
  health.start();
  const feed = new RoutesFeed<'worker'>(store);
  const workerStore = new RouteStore(SOURCE_ORDER);
  let outbox: RoutesMessage[] = [];
  store.onChange(() => {
    for (const [, message] of feed.changed()) outbox.push(message);
  });
  const entry = (i: number, port: number) => parseRouteEntry(`host: r${i}.bench.test\nto: http://10.0.${(i >> 8) & 255}.${i & 255}:${port}\n`, `redis berth:route:r${i}`, 'redis').specs;
  let entries: Array<readonly RouteSpec[]> = Array.from({ length: ROUTES }, (_, i) => entry(i, 80));
  store.update('redis', entries.flat());
  feed.follow('worker');
  toWorker(workerStore, feed.full('worker'));
  const primary: number[] = [];
  const worker: number[] = [];
  const total: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const i = (round * 7919) % ROUTES;
      entries = entries.map((specs, j) => (j === i ? entry(i, 81 + round) : specs));
      const specs = entries.flat();
      outbox = [];
      const started = performance.now();
      store.update('redis', specs);
      // The health checker re-reads the table in a microtask.
      await Promise.resolve();
      const here = performance.now();
      for (const message of outbox) toWorker(workerStore, message);
      const done = performance.now();
      if (workerStore.current.pools.length !== ROUTES || workerStore.current.version !== store.current.version) throw new Error('the worker does not hold the new table');
      primary.push(here - started);
      worker.push(done - here);
      total.push(done - started);
    }
  } finally {
    health.stop();
  }
  return { primary, worker, total };
}

/** As the cluster channel carries it: JSON one way, parsed on the other side. */
function toWorker(store: RouteStore, message: RoutesMessage): void {
  const received = JSON.parse(JSON.stringify(message)) as RoutesMessage;
  store.setHealth(received.health);
  if (received.type === 'berth:routes') for (const [source, specs] of Object.entries(received.sources)) store.update(source, specs);
  else applySpecsChanges(store, received.changes);
}

function timeMs(task: () => unknown): number {
  const started = performance.now();
  task();
  return performance.now() - started;
}
