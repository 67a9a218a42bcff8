// Scale: many labelled containers (busybox sleepers, each with a route): how long the engine takes
// to make them, berth's time from start to its first full sync, memory per route against an empty
// berth, and how fast one change goes through a table of that size.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { uniqueName } from '../test/support/docker.js';
import type { LogLine } from '../test/support/berth.js';
import type { Benchmark, BenchContext, TargetResult } from './benchmark.js';
import { launchBerth, type BenchBerth, type ProcessMemory } from './berth.js';
import { benchDocker, inParallel, removeContainer, startSleeper, type BenchDocker } from './containers.js';
import { watchEvents } from './docker-events.js';
import { engine } from './engine.js';
import { pollUntil } from './http.js';
import { freePort } from './ports.js';
import { median } from './stats.js';
import { bytes, markdownTable, ms } from './table.js';

/** Engine calls in flight while creating and removing: more only queues inside dockerd on 2 cores. */
const PARALLEL = 8;
/** A container's runtime (containerd shim, sleep) takes about this much memory; kept free beyond it. */
const MEMORY_PER_CONTAINER = 16 * 1024 * 1024;
const MEMORY_HEADROOM = 2 * 1024 * 1024 * 1024;

export const scale: Benchmark = {
  name: 'scale',
  title: 'Scale: many labelled containers',
  docker: true,
  async run(context: BenchContext): Promise<TargetResult[]> {
    const wanted = context.quick ? 100 : 1000;
    const count = affordable(wanted);
    const rebuildSamples = context.quick ? 3 : 10;
    const setup = await benchDocker();

    const emptyMemory = await memoryOfEmptyBerth(setup);
    const prefix = uniqueName('scale');
    const hostOf = (i: number) => `${prefix}-${i}.test`;
    // A loopback port where nothing listens: the routes lead nowhere, and requests to them stay here.
    const port = await freePort();
    const createStarted = performance.now();
    const ids: string[] = [];
    await inParallel([...Array(count).keys()], PARALLEL, async (i) => {
      ids[i] = await startSleeper(setup, { name: `${prefix}-${i}`, host: hostOf(i), port, networkMode: 'host' });
    });
    const createSeconds = (performance.now() - createStarted) / 1000;
    const listMs = await engineListTime();

    const berth = await launchBerth({ args: setup.berthArgs, memoryProbe: true, readyTimeoutMs: 120_000 });
    try {
      const routed = await routeCount(berth, prefix);
      if (routed !== count) throw new Error(`berth routes ${routed} of the ${count} containers after its first sync`);
      const syncMs = berth.readyAt - berth.spawnedAt;
      const syncFromListening = logTime(berth.logs, 'first sync of every source done; ready') - logTime(berth.logs, 'listening');
      const fullMemory = await berth.memory();
      const heapPerRoute = (fullMemory.heapUsed - emptyMemory.heapUsed) / count;
      const rssPerRoute = (fullMemory.rss - emptyMemory.rss) / count;
      const rebuild = await measureRebuilds(setup, berth, ids.slice(0, rebuildSamples), hostOf);

      const removeStarted = performance.now();
      await inParallel(ids, PARALLEL, removeContainer);
      const removeSeconds = (performance.now() - removeStarted) / 1000;

      if (count < wanted) console.log(`Only ${count} containers: ${wanted} would not leave ${bytes(MEMORY_HEADROOM)} of memory free here.\n`);
      console.log(
        `${count} busybox sleepers, each with a host label (one route each), created and removed through the Engine API, ${PARALLEL} calls at a time. ` +
          'They use the host network: a veth per container would make creating them several times slower here, and dockerd 20.10 ' +
          'leaked bridge endpoints when hundreds were removed at once (leaving a network that cannot be removed).\n',
      );
      console.log(
        markdownTable(
          ['measure', 'value'],
          [
            ['containers created (engine)', `${createSeconds.toFixed(1)} s (${(count / createSeconds).toFixed(1)}/s)`],
            ['containers removed (engine)', `${removeSeconds.toFixed(1)} s (${(count / removeSeconds).toFixed(1)}/s)`],
            ['berth spawned -> /readyz 200 with every route (first full sync)', ms(syncMs)],
            ['of which: "listening" -> "first sync done" (berth\'s log)', ms(syncFromListening)],
            ['heap after GC, empty berth -> with the routes', `${bytes(emptyMemory.heapUsed)} -> ${bytes(fullMemory.heapUsed)}`],
            ['RSS, empty berth -> with the routes', `${bytes(emptyMemory.rss)} -> ${bytes(fullMemory.rss)}`],
            ['heap per route', bytes(heapPerRoute)],
            ['RSS per route', bytes(rssPerRoute)],
            ['engine alone: GET /containers/json (every container), median of 5', ms(listMs)],
            [`SIGTERM to one container: \`kill\` event -> table swap (berth's log), median of ${rebuild.toSwap.length}`, ms(median(rebuild.toSwap))],
            [`SIGTERM to one container: \`kill\` event -> out of the pool (503 through berth), median of ${rebuild.toOut.length}`, ms(median(rebuild.toOut))],
          ],
        ),
      );
      return [
        { target: `full sync of ${count === 1000 ? '1,000' : count} containers < 3 s`, measured: ms(syncMs), met: syncMs < 3000 },
        { target: '< 2 KB per route (heap after GC)', measured: `${bytes(heapPerRoute)} heap, ${bytes(rssPerRoute)} RSS`, met: heapPerRoute < 2048 },
      ];
    } finally {
      await berth.stop();
    }
  },
};

/** As many as memory allows, up to `wanted`. */
function affordable(wanted: number): number {
  const available = Number(/MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) * 1024;
  return Math.max(10, Math.min(wanted, Math.floor((available - MEMORY_HEADROOM) / MEMORY_PER_CONTAINER)));
}

/** What each of berth's rebuilds waits for before its own work: the engine listing every container. */
async function engineListTime(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await engine('GET', '/containers/json');
    times.push(performance.now() - started);
  }
  return median(times);
}

async function memoryOfEmptyBerth(setup: BenchDocker): Promise<ProcessMemory> {
  const empty = await launchBerth({ args: setup.berthArgs, memoryProbe: true });
  try {
    return await empty.memory();
  } finally {
    await empty.stop();
  }
}

async function routeCount(berth: BenchBerth, prefix: string): Promise<number> {
  const { routes } = await berth.admin<{ routes: Array<{ host: string }> }>('/api/routes');
  return routes.filter((route) => route.host.startsWith(`${prefix}-`)).length;
}

/**
 * Sends SIGTERM to containers one by one and times berth's reaction. `sleep` as PID 1 ignores it,
 * so the container keeps running and its network stays up: what is timed is berth alone (the
 * `kill` event marks it stopping, the table is rebuilt, the pool answers 503).
 */
async function measureRebuilds(setup: BenchDocker, berth: BenchBerth, ids: readonly string[], hostOf: (i: number) => string): Promise<{ toSwap: number[]; toOut: number[] }> {
  const events = await watchEvents(setup.runLabel);
  const toSwap: number[] = [];
  const toOut: number[] = [];
  try {
    for (const [i, id] of ids.entries()) {
      const host = hostOf(i);
      // Routed to a loopback port where nothing listens: 502 until it leaves the pool.
      await pollUntil(berth.proxyPort, host, (status) => status === 502, 5000);
      await engine('POST', `/containers/${id}/kill?signal=SIGTERM`);
      const out = await pollUntil(berth.proxyPort, host, (status) => status === 503, 10_000);
      const killed = await events.next(id, 'kill');
      toOut.push(out.at - killed.at);
      const swap = await logLine(berth, (line) => line.msg === 'route table changed' && poolsIn(line).includes(`${host} /`));
      toSwap.push(Number(swap['time']) - killed.at);
    }
  } finally {
    events.close();
  }
  return { toSwap, toOut };
}

/** The first log line that matches, waiting for it a little: berth's stdout can trail its answers. */
async function logLine(berth: BenchBerth, matches: (line: LogLine) => boolean): Promise<LogLine> {
  for (let waited = 0; waited < 2000; waited += 10) {
    const line = berth.logs.find(matches);
    if (line) return line;
    await sleep(10);
  }
  throw new Error('berth did not log the table change');
}

/** The pools a "route table changed" line names as changed or removed. */
function poolsIn(line: LogLine): string[] {
  return [line['changed'], line['removed']].flatMap((list) => (Array.isArray(list) ? (list as string[]) : []));
}

function logTime(logs: readonly LogLine[], message: string): number {
  const line = logs.find((entry) => entry.msg === message);
  return line ? Number(line['time']) : Number.NaN;
}
