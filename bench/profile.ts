// `npm run bench:profile [-- --workers N] [--access-log] [--new-connections] [--seconds S] [--bare-loop [http-proxy]] [--https] [--top N] [--out DIR]`:
// berth (or, with --bare-loop, the bare http-proxy-3 loop to compare with, or the http-proxy 1.18 one) under wrk load as in
// the throughput benchmark, with node --cpu-prof; then the hottest functions and areas by self
// time, per process and per request. --https: berth terminating TLS (the HTTPS bench's set-up). --out keeps the .cpuprofile files (flame graphs: Chrome
// DevTools' Performance tab or speedscope open them).
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../test/support/repo.js';
import { cleanupAll, cleanUpOnSignals } from './cleanup.js';
import { summarizeProfile, type CpuProfile } from './cpuprofile.js';
import { bareLoopName, startBareLoop } from './peers/bare-loop.js';
import { berthName, startBerthPeer } from './peers/berth.js';
import { berthHttpsName, berthHttpsWorkers } from './peers/https.js';
import { ensurePeerPrograms } from './peers/install.js';
import { startOrigin } from './peers/origin.js';
import { APP_HOST } from './peers/peer.js';
import { makeBenchCertificate, TLS_APP_HOST, TLS_URL_HOST } from './tls.js';
import { markdownTable, ms } from './table.js';
import { runWrk } from './wrk.js';


const args = process.argv.slice(2);
const valueOf = (flag: string, fallback: number) => {
  const index = args.indexOf(flag);
  return index === -1 ? fallback : Number(args[index + 1]);
};
const variant = { workers: valueOf('--workers', 1), accessLog: args.includes('--access-log') };
const newConnections = args.includes('--new-connections');
const seconds = valueOf('--seconds', 10);
const bareLoop = args.includes('--bare-loop');
const overTls = args.includes('--https');
const library = args[args.indexOf('--bare-loop') + 1] === 'http-proxy' ? 'http-proxy' : 'http-proxy-3';
const TOP = valueOf('--top', 25);
const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : undefined;

cleanUpOnSignals();
const dir = await mkdtemp(join(os.tmpdir(), 'berth-profile-'));
try {
  await ensurePeerPrograms();
  const origin = await startOrigin(dir);
  const profiles = out ?? join(dir, 'profiles');
  const setup = { originPort: origin.port, dir };
  const nodeOptions = ['--cpu-prof', '--cpu-prof-dir', profiles];
  const proxy = overTls
    ? await berthHttpsWorkers(variant.workers, nodeOptions)({ ...setup, certificate: await makeBenchCertificate(dir) })
    : bareLoop
      ? await startBareLoop(setup, variant.workers, nodeOptions, library)
      : await startBerthPeer(setup, { ...variant, nodeOptions });
  const target = overTls ? { host: TLS_APP_HOST, tlsHost: TLS_URL_HOST } : { host: APP_HOST };
  const warmup = await runWrk({ port: proxy.port, connections: 64, seconds: 2, newConnections, ...target });
  const load = await runWrk({ port: proxy.port, connections: 64, seconds, newConnections, ...target });
  // The profile covers start-up and warm-up too: per-request figures divide by every request served.
  const requests = warmup.requests + load.requests;
  await proxy.stop();
  await origin.stop();
  console.log(`# ${overTls ? `${berthHttpsName(variant.workers)} over HTTPS` : bareLoop ? bareLoopName(variant.workers, library) : berthName(variant)}, ${newConnections ? 'a new connection per request' : 'keep-alive'}: ${load.requestsPerSecond.toFixed(0)} req/s under --cpu-prof (wrk, 64 connections, ${seconds} s); ${requests} requests in the profile\n`);
  for (const file of (await readdir(profiles)).filter((name) => name.endsWith('.cpuprofile')).sort()) {
    const profile = JSON.parse(await readFile(join(profiles, file), 'utf8')) as CpuProfile;
    const summary = summarizeProfile(profile, repoRoot());
    console.log(`## ${file}: ${ms(summary.busyMs)} busy, ${ms(summary.idleMs)} idle\n`);
    const rows = (list: typeof summary.functions) => list.map((entry) => [entry.name, ms(entry.ms), `${(entry.share * 100).toFixed(1)}%`, `${((entry.ms * 1000) / requests).toFixed(2)} us`]);
    console.log(markdownTable(['area', 'self time', 'share of busy', 'per request'], rows(summary.areas)));
    console.log();
    console.log(markdownTable(['function', 'self time', 'share of busy', 'per request'], rows(summary.functions.slice(0, TOP))));
    console.log();
  }
} finally {
  await cleanupAll();
  await rm(dir, { recursive: true, force: true });
}
if (out) console.log(`Profiles kept in ${out}.`);
