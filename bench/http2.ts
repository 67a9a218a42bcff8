// HTTP/2: h2load (one thread, 8 connections of 8 concurrent streams: 64 requests in flight, as
// the wrk benches keep) over TLS to nginx, Caddy and berth (one process and --workers 2), each
// terminating TLS with the same certificate and forwarding over HTTP/1.1 to the same origin, in
// interleaved rounds; medians over rounds, p50 and p99 from h2load's per-request log.
import { join } from 'node:path';
import type { Benchmark, BenchContext, TargetResult } from './benchmark.js';
import { runH2load, type H2loadResult } from './h2load.js';
import { berthHttpsName, berthHttpsWorkers, startBerthHttps, startCaddyHttps, startNginxHttps, type HttpsStarter } from './peers/https.js';
import { ensurePeerPrograms, ensurePrograms, H2LOAD } from './peers/install.js';
import { startOrigin } from './peers/origin.js';
import type { Peer } from './peers/peer.js';
import { median } from './stats.js';
import { markdownTable, ms, ratio } from './table.js';
import { makeBenchCertificate, TLS_APP_HOST, TLS_URL_HOST } from './tls.js';

const PEERS: readonly HttpsStarter[] = [startNginxHttps, startCaddyHttps, startBerthHttps, berthHttpsWorkers(2)];
const CONNECTIONS = 8;
const STREAMS = 8;

export const http2Bench: Benchmark = {
  name: 'http2',
  title: `HTTP/2 on loopback vs the peers (h2load, 1 thread, ${CONNECTIONS} connections x ${STREAMS} streams, TLS terminated by the proxy)`,
  docker: false,
  async run(context: BenchContext): Promise<TargetResult[]> {
    const timing = context.quick ? { rounds: 1, warmup: 1, seconds: 3 } : { rounds: 3, warmup: 2, seconds: 6 };
    await ensurePeerPrograms();
    // Installed as root when missing; otherwise the error says: apt-get install -y nghttp2-client.
    await ensurePrograms(H2LOAD);
    const certificate = await makeBenchCertificate(context.dir);
    const origin = await startOrigin(context.dir);
    const setup = { originPort: origin.port, dir: context.dir, certificate };
    const peers: Peer[] = [];
    for (const start of PEERS) peers.push(await start(setup));
    const run = (peer: Peer, seconds: number, warmupSeconds: number) =>
      runH2load({ port: peer.port, urlHost: TLS_URL_HOST, authority: TLS_APP_HOST, connections: CONNECTIONS, streams: STREAMS, seconds, warmupSeconds, logFile: join(context.dir, 'h2load.log') });
    const results = new Map<string, H2loadResult[]>();
    for (const peer of peers) await run(peer, timing.warmup, 0);
    for (let round = 0; round < timing.rounds; round++) {
      for (const peer of peers) results.set(peer.name, [...(results.get(peer.name) ?? []), await run(peer, timing.seconds, 1)]);
    }
    for (const peer of [...peers, origin]) await peer.stop();

    const of = (name: string) => {
      const runs = results.get(name) ?? [];
      return {
        rps: median(runs.map((r) => r.requestsPerSecond)),
        p50: median(runs.map((r) => r.p50Ms)),
        p99: median(runs.map((r) => r.p99Ms)),
        failures: runs.reduce((sum, r) => sum + r.failures, 0),
        protocols: [...new Set(runs.map((r) => r.protocol))].join(', '),
      };
    };
    const caddy = of('Caddy');
    console.log(`${timing.rounds} round(s) of ${timing.seconds} s per peer (1 s of h2load warm-up each), after a ${timing.warmup} s warm-up; medians over rounds. Ratios are to Caddy, measured in this run.\n`);
    console.log(
      markdownTable(
        ['target', 'protocol', 'req/s', 'x Caddy', 'p50', 'p99', 'failed'],
        peers.map((peer) => {
          const m = of(peer.name);
          return [peer.name, m.protocols, m.rps.toFixed(0), ratio(m.rps / caddy.rps), ms(m.p50), ms(m.p99), String(m.failures)];
        }),
      ),
    );
    const berth = of(berthHttpsName(2));
    const allH2 = peers.every((peer) => of(peer.name).protocols === 'h2');
    return [
      {
        target: 'HTTP/2 (h2load): berth --workers 2 vs Caddy, reported with p99',
        measured: `${ratio(berth.rps / caddy.rps)}; p99 ${ms(berth.p99)} vs Caddy's ${ms(caddy.p99)}`,
        // Reported, not a threshold: met once every peer spoke h2 and berth failed no request.
        met: allH2 && berth.failures === 0,
      },
    ];
  },
};
