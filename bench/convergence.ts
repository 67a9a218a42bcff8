// Convergence: how fast a container's route goes live after it starts, and how fast it leaves its
// pool when the container is stopped. Times are taken from the daemon's events (timeNano) and
// from the CLI calls, against berth answering through its proxy.
import type { Benchmark, BenchContext, TargetResult } from './benchmark.js';
import { launchBerth } from './berth.js';
import { docker } from '../test/support/docker.js';
import { benchDocker, benchHost, runReplica, type BenchDocker } from './containers.js';
import { watchEvents, type EventWatch } from './docker-events.js';
import { pollUntil, wallClock } from './http.js';
import { quantile } from './stats.js';
import { markdownTable, ms } from './table.js';

const POLL_LIMIT_MS = 10_000;

interface Run {
  /** `start` event -> first answer that is not 404 (the route is in berth's table). */
  readonly eventToRoute: number;
  /** `start` event -> first 200 (route in, and the container's server up). */
  readonly eventTo200: number;
  /** `docker run` returned -> first 200. */
  readonly runTo200: number;
  /** `docker stop` called -> first answer that is not 200 (out of the pool). */
  readonly stopToOut: number;
  /** `kill` event -> out of the pool. */
  readonly killToOut: number;
}

export const convergence: Benchmark = {
  name: 'convergence',
  title: 'Convergence: Docker start / stop -> route in / out of the pool',
  docker: true,
  async run(context: BenchContext): Promise<TargetResult[]> {
    const runs = context.quick ? 10 : 30;
    const setup = await benchDocker();
    const events = await watchEvents(setup.runLabel);
    const berth = await launchBerth({ args: setup.berthArgs });
    const samples: Run[] = [];
    try {
      for (let i = 0; i < runs; i++) samples.push(await measureOnce(setup, berth.proxyPort, events));
    } finally {
      events.close();
      await berth.stop();
    }
    const rows: Array<[string, (run: Run) => number]> = [
      ['`start` event -> route in the table (first non-404)', (run) => run.eventToRoute],
      ['`start` event -> first 200 through berth', (run) => run.eventTo200],
      ['`docker run` returned -> first 200 through berth', (run) => run.runTo200],
      ['`docker stop` called -> out of the pool (first 503/404)', (run) => run.stopToOut],
      ['`kill` event -> out of the pool (first 503/404)', (run) => run.killToOut],
    ];
    console.log(`${runs} runs, each a new busybox httpd container (docker run -d --init); berth polled through its proxy on fresh connections.\n`);
    console.log(
      markdownTable(
        ['interval', 'p50', 'p90', 'p99', 'max'],
        rows.map(([label, pick]) => {
          const values = samples.map(pick);
          return [label, ms(quantile(values, 0.5)), ms(quantile(values, 0.9)), ms(quantile(values, 0.99)), ms(Math.max(...values))];
        }),
      ),
    );
    const target = (label: string, values: number[]): TargetResult[] => [
      { target: `convergence p50 < 50 ms (${label})`, measured: ms(quantile(values, 0.5)), met: quantile(values, 0.5) < 50 },
      { target: `convergence p99 < 250 ms (${label})`, measured: ms(quantile(values, 0.99)), met: quantile(values, 0.99) < 250 },
    ];
    return [...target('start event -> first 200', samples.map((run) => run.eventTo200)), ...target('docker run returned -> first 200', samples.map((run) => run.runTo200))];
  },
};

async function measureOnce(setup: BenchDocker, proxyPort: number, events: EventWatch): Promise<Run> {
  const host = benchHost('conv');
  const container = await runReplica(setup, host);
  const runReturned = wallClock();
  const routed = await pollUntil(proxyPort, host, (status) => status !== 404 && status !== 0, POLL_LIMIT_MS);
  const first200 = routed.status === 200 ? routed : await pollUntil(proxyPort, host, (status) => status === 200, POLL_LIMIT_MS);
  const started = await events.next(container.id, 'start');

  const stopCalled = wallClock();
  const stopped = docker('stop', container.name);
  const out = await pollUntil(proxyPort, host, (status) => status === 503 || status === 404, POLL_LIMIT_MS);
  const killed = await events.next(container.id, 'kill');
  await stopped;
  await docker('rm', '-f', container.name);
  return {
    eventToRoute: routed.at - started.at,
    eventTo200: first200.at - started.at,
    runTo200: first200.at - runReturned,
    stopToOut: out.at - stopCalled,
    killToOut: out.at - killed.at,
  };
}
