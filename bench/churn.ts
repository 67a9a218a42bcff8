// Churn: a stable route under constant load while other labelled containers start and stop at
// 20 per second. Each start and stop makes berth re-list and swap its table; the stable route must
// not lose a request, and its latency should barely move.
import type { LogLine } from '../test/support/berth.js';
import { uniqueName } from '../test/support/docker.js';
import type { Benchmark, BenchContext, TargetResult } from './benchmark.js';
import { launchBerth } from './berth.js';
import { benchDocker, benchHost, removeContainer, REPLICAS, runReplica, startSleeper, type BenchDocker } from './containers.js';
import { pollUntil, wallClock } from './http.js';
import { describeFailures, startLoad, type LoadResult } from './load.js';
import { quantile } from './stats.js';
import { markdownTable, ms, ratio } from './table.js';

const CHURN_PER_SECOND = 20;
/** Churning containers alive at once: each one started past this stops the oldest. */
const CHURN_ALIVE = 10;
/** Engine calls in flight at once; a tick that finds them all busy is skipped (and shows in the rate). */
const CHURN_IN_FLIGHT = 16;
const CONNECTIONS = 16;

interface ChurnCount {
  readonly starts: number;
  readonly stops: number;
  readonly failedCalls: number;
}

export const churn: Benchmark = {
  name: 'churn',
  title: 'Churn: a stable route under load while other containers start and stop at 20/s',
  docker: true,
  async run(context: BenchContext): Promise<TargetResult[]> {
    const seconds = context.quick ? 5 : 15;
    const setup = await benchDocker();
    const berth = await launchBerth({ args: setup.berthArgs });
    try {
      const host = benchHost('stable');
      await runReplica(setup, host, 'node');
      await pollUntil(berth.proxyPort, host, (status) => status === 200, 30_000);
      const load = () => startLoad({ port: berth.proxyPort, host, connections: CONNECTIONS, maxDurationMs: seconds * 1000, maxRequests: 5_000_000 }).done;

      const quiet = await load();
      const churnStarted = wallClock();
      const churner = startChurn(setup);
      const busy = await load();
      const churned = await churner.stop();
      const swaps = tableChanges(berth.logs, churnStarted, wallClock());

      const churnSeconds = busy.durationMs / 1000;
      console.log(`${CONNECTIONS} keep-alive connections on one route (${REPLICAS.node}) for ${seconds} s, first quiet, then with churn: busybox sleepers (host network, so that the engine can start them this fast) labelled with routes, ${CHURN_ALIVE} alive at a time.\n`);
      console.log(
        markdownTable(
          ['phase', 'requests', 'req/s', 'failed', 'p50', 'p99'],
          [
            row('quiet', quiet),
            row(`churn: ${(churned.starts / churnSeconds).toFixed(1)} starts/s, ${(churned.stops / churnSeconds).toFixed(1)} stops/s, ${swaps} table swaps`, busy),
          ],
        ),
      );
      const p99Change = quantile(busy.latenciesMs, 0.99) / quantile(quiet.latenciesMs, 0.99);
      console.log(`\np99 with churn / without: ${ratio(p99Change)}${churned.failedCalls > 0 ? `; ${churned.failedCalls} engine calls failed` : ''}.`);
      return [{ target: '0 failed requests on the stable route during churn', measured: `${describeFailures(busy)} of ${busy.requests} at ${(churned.starts / churnSeconds).toFixed(1)} starts/s`, met: busy.failed === 0 }];
    } finally {
      await berth.stop();
    }
  },
};

function row(phase: string, result: LoadResult): string[] {
  return [phase, String(result.requests), (result.requests / (result.durationMs / 1000)).toFixed(0), describeFailures(result), ms(quantile(result.latenciesMs, 0.5)), ms(quantile(result.latenciesMs, 0.99))];
}

/** Starts a labelled container every 1/20 s and stops the oldest beyond CHURN_ALIVE, until stopped. */
function startChurn(setup: BenchDocker): { stop(): Promise<ChurnCount> } {
  const alive: string[] = [];
  const pending = new Set<Promise<void>>();
  const count = { starts: 0, stops: 0, failedCalls: 0 };
  const cycle = async () => {
    const name = uniqueName('churn');
    alive.push(await startSleeper(setup, { name, host: `${name}.test`, networkMode: 'host' }));
    count.starts++;
    if (alive.length > CHURN_ALIVE) {
      await removeContainer(alive.shift()!);
      count.stops++;
    }
  };
  const timer = setInterval(() => {
    if (pending.size >= CHURN_IN_FLIGHT) return;
    const call = cycle().catch(() => void count.failedCalls++);
    pending.add(call);
    void call.finally(() => pending.delete(call));
  }, 1000 / CHURN_PER_SECOND);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
      await Promise.all(alive.splice(0).map((id) => removeContainer(id).catch(() => undefined)));
      return count;
    },
  };
}

function tableChanges(logs: readonly LogLine[], from: number, to: number): number {
  return logs.filter((line) => line.msg === 'route table changed' && Number(line['time']) >= from && Number(line['time']) <= to).length;
}
