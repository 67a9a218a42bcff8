// `node dist/bench/cost.js [--seconds S] [--rounds N] [--new-connections] [--https]`: CPU time per
// request of berth and of the bare loops (one process each), or with --https of berth (one process
// and --workers 2) and Caddy terminating TLS, under the throughput bench's wrk load, in interleaved
// rounds; medians. A process's CPU time includes its workers'. A shared machine moves requests per second a lot and CPU time per
// request little: this is the figure to compare while working on the hot path.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { cleanupAll, cleanUpOnSignals } from './cleanup.js';
import { cpuMsOfTree } from './cpu-time.js';
import { startBareLoop } from './peers/bare-loop.js';
import { startBerthPeer } from './peers/berth.js';
import { berthHttpsWorkers, startBerthHttps, startCaddyHttps } from './peers/https.js';
import { ensurePeerPrograms } from './peers/install.js';
import { startOrigin } from './peers/origin.js';
import { APP_HOST, type Peer } from './peers/peer.js';
import { median } from './stats.js';
import { markdownTable } from './table.js';
import { makeBenchCertificate, TLS_APP_HOST, TLS_URL_HOST } from './tls.js';
import { runWrk } from './wrk.js';

const args = process.argv.slice(2);
const valueOf = (flag: string, fallback: number) => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : fallback);
const seconds = valueOf('--seconds', 4);
const rounds = valueOf('--rounds', 3);
const newConnections = args.includes('--new-connections');
const overTls = args.includes('--https');

cleanUpOnSignals();
const dir = await mkdtemp(join(os.tmpdir(), 'berth-cost-'));
try {
  await ensurePeerPrograms();
  const origin = await startOrigin(dir);
  const setup = { originPort: origin.port, dir };
  const tlsSetup = overTls ? { ...setup, certificate: await makeBenchCertificate(dir) } : null;
  const peers: Peer[] = tlsSetup
    ? [await startCaddyHttps(tlsSetup), await startBerthHttps(tlsSetup), await berthHttpsWorkers(2)(tlsSetup)]
    : [await startBareLoop(setup, 1, [], 'http-proxy'), await startBareLoop(setup, 1, [], 'http-proxy-3'), await startBerthPeer(setup, { workers: 1, accessLog: false })];
  const target = tlsSetup ? { host: TLS_APP_HOST, tlsHost: TLS_URL_HOST } : { host: APP_HOST };
  const costs = new Map<string, number[]>();
  const rates = new Map<string, number[]>();
  const busy = new Map<string, number[]>();
  for (const peer of peers) await runWrk({ port: peer.port, connections: 64, seconds: 2, newConnections, ...target });
  for (let round = 0; round < rounds; round++) {
    for (const peer of peers) {
      const before = (await cpuMsOfTree(peer.pid!)) ?? 0;
      const result = await runWrk({ port: peer.port, connections: 64, seconds, newConnections, ...target });
      const after = (await cpuMsOfTree(peer.pid!)) ?? 0;
      costs.set(peer.name, [...(costs.get(peer.name) ?? []), ((after - before) * 1000) / result.requests]);
      rates.set(peer.name, [...(rates.get(peer.name) ?? []), result.requestsPerSecond]);
      busy.set(peer.name, [...(busy.get(peer.name) ?? []), (after - before) / (seconds * 10)]);
    }
  }
  for (const peer of [...peers, origin]) await peer.stop();
  console.log(`${rounds} round(s) of ${seconds} s, ${overTls ? 'HTTPS, ' : ''}${newConnections ? 'a new connection per request' : 'keep-alive'}, 64 connections; load average ${os.loadavg().map((v) => v.toFixed(2)).join(', ')}\n`);
  console.log(markdownTable(['peer', 'CPU per request', 'req/s', 'CPU busy'], peers.map((peer) => [peer.name, `${median(costs.get(peer.name)!).toFixed(1)} us`, median(rates.get(peer.name)!).toFixed(0), `${median(busy.get(peer.name)!).toFixed(0)}%`])));
} finally {
  await cleanupAll();
  await rm(dir, { recursive: true, force: true });
}
