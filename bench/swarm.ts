// Swarm sync at scale, in-process: a synthetic Engine API answer of 1,000 running tasks (one
// machine's single-node swarm cannot hold them) parsed, read, turned into routes by the swarm
// snapshot and swapped into a route store, the whole of what one re-list costs besides the wire.
import { RouteStore } from '../src/routes/store.js';
import { networkFromEngine, serviceFromEngine, taskFromEngine } from '../src/swarm/engine.js';
import { swarmSnapshot } from '../src/swarm/snapshot.js';
import { swarmAnswer, type SwarmAnswer } from '../test/support/swarm-answer.js';
import type { Benchmark, BenchContext, TargetResult } from './benchmark.js';
import { median } from './stats.js';
import { markdownTable, ms } from './table.js';

const TASKS = 1_000;
/** Shapes of 1,000 tasks: one big service, a hundred middling ones, a thousand single replicas. */
const SHAPES = [
  [1, 1_000],
  [100, 10],
  [1_000, 1],
] as const;
const TARGET_MS = 100;
const OPTIONS = { labelPrefix: 'berth', domain: null, exposedByDefault: true, network: null };

export const swarm: Benchmark = {
  name: 'swarm',
  title: 'Swarm sync: 1,000 tasks from a synthetic Engine API answer into the table',
  docker: false,
  async run(context: BenchContext): Promise<TargetResult[]> {
    const rounds = context.quick ? 5 : 25;
    const rows = SHAPES.map(([services, each]) => ({ services, each, ...measure(swarmAnswer(services, each), rounds) }));
    console.log(`${rounds} rounds per shape, after a warm-up; each round parses the answer's JSON, reads it, builds the snapshot and swaps a new table in (a fresh store, so every route is new).\n`);
    console.log(markdownTable(['services x tasks', 'routes', 'median sync', 'slowest sync'], rows.map((row) => [`${row.services} x ${row.each}`, String(row.routes), ms(row.medianMs), ms(row.maxMs)])));
    const worst = Math.max(...rows.map((row) => row.medianMs));
    return [{ target: `${TASKS.toLocaleString('en')} swarm tasks synced into the table in under ${TARGET_MS} ms (median, worst shape)`, measured: ms(worst), met: worst < TARGET_MS }];
  },
};

function measure(answer: SwarmAnswer, rounds: number): { routes: number; medianMs: number; maxMs: number } {
  let routes = 0;
  const once = () => {
    const store = new RouteStore(['swarm']);
    const started = performance.now();
    const list = {
      services: (JSON.parse(answer.services) as unknown[]).map(serviceFromEngine),
      tasks: (JSON.parse(answer.tasks) as unknown[]).map(taskFromEngine),
      networks: (JSON.parse(answer.networks) as unknown[]).map(networkFromEngine),
      containers: [],
    };
    const result = swarmSnapshot(list, null, new Set(), OPTIONS);
    store.update('swarm', result.routes);
    const took = performance.now() - started;
    routes = result.routes.length;
    if (routes !== TASKS) throw new Error(`${routes} routes from ${TASKS} tasks`);
    return took;
  };
  once(); // warm-up: let the JIT settle before timing
  const times = Array.from({ length: rounds }, once);
  return { routes, medianMs: median(times), maxMs: Math.max(...times) };
}
