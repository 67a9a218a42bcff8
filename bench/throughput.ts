// Throughput: wrk (one thread, 64 connections) through each proxy to one fast origin on loopback,
// every peer measured in the same run, in interleaved rounds so that drifting background load hits
// them alike; figures are medians over the rounds, given as ratios to the origin hit directly and
// to the bare http-proxy 1.18 loop (beside it, the same loop on http-proxy-3).
import type { Benchmark, BenchContext, TargetResult } from './benchmark.js';
import { bareLoopName, startBareLoop } from './peers/bare-loop.js';
import { berthName, startBerthPeer, type BerthVariant } from './peers/berth.js';
import { startCaddy } from './peers/caddy.js';
import { startHaproxy } from './peers/haproxy.js';
import { ensurePeerPrograms } from './peers/install.js';
import { startNginx } from './peers/nginx.js';
import { startOrigin } from './peers/origin.js';
import { APP_HOST, type Peer, type PeerSetup } from './peers/peer.js';
import { startRedbird } from './peers/redbird.js';
import { median } from './stats.js';
import { markdownTable, ms, ratio } from './table.js';
import { runWrk, type WrkResult } from './wrk.js';

export const CONNECTIONS = 64;

const BERTH: BerthVariant = { workers: 1, accessLog: false };
const BERTH_WORKERS: BerthVariant = { workers: 2, accessLog: false };
const BERTH_ACCESS_LOG: BerthVariant = { workers: 1, accessLog: true };
const BARE_LOOP = bareLoopName(1, 'http-proxy');
const BARE_LOOP_3 = bareLoopName(1, 'http-proxy-3');

type Starter = (setup: PeerSetup) => Promise<Peer>;

const PROXIES: readonly Starter[] = [
  startNginx,
  startHaproxy,
  startCaddy,
  (setup) => startBareLoop(setup, 1, [], 'http-proxy'),
  (setup) => startBareLoop(setup, 1, [], 'http-proxy-3'),
  (setup) => startBareLoop(setup, 2, [], 'http-proxy-3'),
  startRedbird,
  (setup) => startBerthPeer(setup, BERTH),
  (setup) => startBerthPeer(setup, BERTH_WORKERS),
  (setup) => startBerthPeer(setup, BERTH_ACCESS_LOG),
];

export const VARIANTS = [
  { label: 'keep-alive', newConnections: false },
  { label: 'new connection per request (Connection: close)', newConnections: true },
] as const;

export interface Measured {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly failures: number;
}

export const throughput: Benchmark = {
  name: 'throughput',
  title: 'Throughput on loopback vs the peers (wrk, 1 thread, 64 connections)',
  docker: false,
  async run(context: BenchContext): Promise<TargetResult[]> {
    const timing = context.quick ? { rounds: 1, warmup: 1, seconds: 3 } : { rounds: 3, warmup: 2, seconds: 6 };
    await ensurePeerPrograms();
    // Started processes are registered for cleanup (processes.ts), also when a later one fails.
    const origin = await startOrigin(context.dir);
    const setup = { originPort: origin.port, dir: context.dir };
    const peers = [origin];
    for (const start of PROXIES) peers.push(await start(setup));
    console.log(`${timing.rounds} round(s) of ${timing.seconds} s per target and variant, after a ${timing.warmup} s warm-up; medians over rounds.`);
    const measured = await measureAll(peers, timing);
    for (const peer of peers) await peer.stop();

    for (const variant of VARIANTS) {
      const direct = measured(origin.name, variant.newConnections);
      const bare = measured(BARE_LOOP, variant.newConnections);
      console.log(`\n${variant.label}: ratios are to the origin hit directly and to the bare loop, measured in this run.\n`);
      console.log(
        markdownTable(
          ['target', 'req/s', 'x direct', 'x bare loop', 'p50', 'p99', 'failed'],
          peers.map((peer) => {
            const m = measured(peer.name, variant.newConnections);
            return [peer.name, m.rps.toFixed(0), ratio(m.rps / direct.rps), ratio(m.rps / bare.rps), ms(m.p50), ms(m.p99), String(m.failures)];
          }),
        ),
      );
    }

    const rps = (name: string, newConnections: boolean) => measured(name, newConnections).rps;
    const target = (text: string, a: string, b: string, newConnections: boolean, atLeast: number): TargetResult => {
      const r = rps(a, newConnections) / rps(b, newConnections);
      const other = rps(a, !newConnections) / rps(b, !newConnections);
      return { target: text, measured: `${ratio(r)} ${newConnections ? 'new connections' : 'keep-alive'} (${ratio(other)} ${newConnections ? 'keep-alive' : 'new connections'})`, met: r >= atLeast };
    };
    const logCost = { keepAlive: rps(berthName(BERTH_ACCESS_LOG), false) / rps(berthName(BERTH), false), close: rps(berthName(BERTH_ACCESS_LOG), true) / rps(berthName(BERTH), true) };
    console.log(`\nAccess log on / off (berth, one process): ${ratio(logCost.keepAlive)} keep-alive, ${ratio(logCost.close)} new connections.`);
    const berthP99 = measured(berthName(BERTH), false).p99;
    const bareP99 = measured(BARE_LOOP, false).p99;
    const bare3P99 = measured(BARE_LOOP_3, false).p99;
    return [
      target('berth (one process) >= 1.0x the bare http-proxy 1.18 loop, keep-alive', berthName(BERTH), BARE_LOOP, false, 1.0),
      target('berth (one process) >= 1.2x the bare http-proxy-3 loop, keep-alive', berthName(BERTH), BARE_LOOP_3, false, 1.2),
      target('berth (one process) >= 3x redbird, keep-alive', berthName(BERTH), 'redbird', false, 3),
      target('berth --workers 2 >= 1.1x Caddy, keep-alive', berthName(BERTH_WORKERS), 'Caddy', false, 1.1),
      target('berth --workers 2 >= 1.0x Caddy, a new connection per request', berthName(BERTH_WORKERS), 'Caddy', true, 1.0),
      {
        target: `berth (one process) p99 at ${CONNECTIONS} keep-alive connections no worse than the bare http-proxy 1.18 loop's`,
        measured: `${ms(berthP99)} vs ${ms(bareP99)} (http-proxy-3 loop: ${ms(bare3P99)})`,
        met: berthP99 <= bareP99,
      },
    ];
  },
};

/**
 * Warms every peer up, then runs the rounds (each measures every peer once per variant); returns the
 * medians of a peer and variant. Plain HTTP for app.test unless `target` says otherwise.
 */
export async function measureAll(
  peers: readonly Peer[],
  timing: { rounds: number; warmup: number; seconds: number },
  target: { readonly host: string; readonly tlsHost?: string } = { host: APP_HOST },
): Promise<(name: string, newConnections: boolean) => Measured> {
  const results = new Map<string, WrkResult[]>();
  const key = (name: string, newConnections: boolean) => `${name}|${newConnections}`;
  const wrk = (peer: Peer, newConnections: boolean, seconds: number) => runWrk({ port: peer.port, connections: CONNECTIONS, seconds, newConnections, ...target });
  for (const variant of VARIANTS) for (const peer of peers) await wrk(peer, variant.newConnections, timing.warmup);
  for (let round = 0; round < timing.rounds; round++) {
    for (const variant of VARIANTS) {
      for (const peer of peers) {
        const runs = results.get(key(peer.name, variant.newConnections)) ?? [];
        runs.push(await wrk(peer, variant.newConnections, timing.seconds));
        results.set(key(peer.name, variant.newConnections), runs);
      }
    }
  }
  return (name, newConnections) => {
    const runs = results.get(key(name, newConnections)) ?? [];
    return {
      rps: median(runs.map((run) => run.requestsPerSecond)),
      p50: median(runs.map((run) => run.p50Ms)),
      p99: median(runs.map((run) => run.p99Ms)),
      failures: runs.reduce((sum, run) => sum + run.failures, 0),
    };
  };
}
