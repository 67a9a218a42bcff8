// Rolling replace: under load on one host, start a new replica, wait until berth has it in the
// pool, then `docker stop` the old one; repeat, for two kinds of server. No request may fail.
import { setTimeout as sleep } from 'node:timers/promises';
import type { EndpointView } from '../test/support/berth.js';
import { docker, type Container } from '../test/support/docker.js';
import type { Benchmark, BenchContext, TargetResult } from './benchmark.js';
import { launchBerth, type BenchBerth } from './berth.js';
import { benchDocker, benchHost, REPLICAS, runReplica, type BenchDocker, type ReplicaKind } from './containers.js';
import { pollUntil } from './http.js';
import { describeFailures, startLoad } from './load.js';
import { quantile } from './stats.js';
import { markdownTable, ms } from './table.js';

const CONNECTIONS = 16;
/** Both replicas serve for a moment before the old one goes, as in a real roll-out. */
const OVERLAP_MS = 300;

export const rolling: Benchmark = {
  name: 'rolling',
  title: 'Rolling replace under load',
  docker: true,
  async run(context: BenchContext): Promise<TargetResult[]> {
    const rounds = context.quick ? 4 : 10;
    const setup = await benchDocker();
    const berth = await launchBerth({ args: setup.berthArgs });
    const rows: string[][] = [];
    const targets: TargetResult[] = [];
    try {
      for (const kind of Object.keys(REPLICAS) as ReplicaKind[]) {
        const host = benchHost(`rolling-${kind}`);
        const first = await runReplica(setup, host, kind);
        await pollUntil(berth.proxyPort, host, (status) => status === 200, 30_000);
        const load = startLoad({ port: berth.proxyPort, host, connections: CONNECTIONS, maxDurationMs: 300_000, maxRequests: 10_000_000 });
        const stopTimes = await replaceReplicas({ setup, berth, host, kind, first, rounds }).finally(() => load.stop());
        const result = await load.done;
        rows.push([REPLICAS[kind], String(result.requests), describeFailures(result), ms(quantile(result.latenciesMs, 0.5)), ms(quantile(result.latenciesMs, 0.99)), ms(quantile(stopTimes, 0.5))]);
        targets.push({ target: `0 failed requests in rolling replace (${kind} replicas)`, measured: `${describeFailures(result)} of ${result.requests}`, met: result.failed === 0 });
      }
    } finally {
      await berth.stop();
    }
    console.log(`${rounds} rounds per replica kind of: docker run a new replica, wait until berth lists it ready, ${OVERLAP_MS} ms overlap, docker stop the old one; ${CONNECTIONS} keep-alive client connections throughout.\n`);
    console.log(markdownTable(['replicas', 'requests', 'failed', 'p50', 'p99', '`docker stop` p50'], rows));
    return targets;
  },
};

interface Rollout {
  readonly setup: BenchDocker;
  readonly berth: BenchBerth;
  readonly host: string;
  readonly kind: ReplicaKind;
  readonly first: Container;
  readonly rounds: number;
}

/** Each round: a new replica in, the current one stopped; resolves with how long each `docker stop` took. */
async function replaceReplicas({ setup, berth, host, kind, first, rounds }: Rollout): Promise<number[]> {
  const stopTimes: number[] = [];
  let current = first;
  for (let round = 0; round < rounds; round++) {
    const next = await runReplica(setup, host, kind);
    await waitReadyInPool(berth, host, next.name);
    await sleep(OVERLAP_MS);
    const stopping = performance.now();
    await docker('stop', current.name);
    stopTimes.push(performance.now() - stopping);
    await docker('rm', current.name);
    current = next;
  }
  return stopTimes;
}

async function waitReadyInPool(berth: BenchBerth, host: string, container: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    const { routes } = await berth.admin<{ routes: Array<{ host: string; endpoints: EndpointView[] }> }>('/api/routes');
    const endpoints = routes.filter((route) => route.host === host).flatMap((route) => route.endpoints);
    if (endpoints.some((endpoint) => endpoint.container === container && endpoint.ready)) return;
    await sleep(10);
  }
  throw new Error(`${container} never showed as ready in ${host}'s pool`);
}
