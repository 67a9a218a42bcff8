// What per-route behaviours cost: one berth, one origin, two hosts measured in interleaved rounds:
// a plain route, and a route with basic auth (SHA1: the check itself is cheap, so what is measured
// is berth's pipeline), request and response header edits and compression (brotli, as browsers
// ask; the origin's 1 KiB-plus text body is compressed on every request).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launchBerth } from './berth.js';
import type { Benchmark, BenchContext, TargetResult } from './benchmark.js';
import { ensurePeerPrograms } from './peers/install.js';
import { freePort } from './ports.js';
import { spawnChild } from './processes.js';
import { renderConfig } from './peers/config.js';
import { statusOf } from './http.js';
import { servingPeer } from './peers/peer.js';
import { median } from './stats.js';
import { markdownTable, ms, ratio } from './table.js';
import { runWrk, type WrkResult } from './wrk.js';

const PLAIN = 'plain.bench.test';
const GUARDED = 'guarded.bench.test';
// {SHA} of "secret" for user "bench".
const USERS = 'bench:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=';
const AUTHORIZATION = 'Authorization: Basic ' + Buffer.from('bench:secret').toString('base64');

export const behaviours: Benchmark = {
  name: 'behaviours',
  title: 'The cost of per-route behaviours (wrk, 1 thread, 64 connections, keep-alive)',
  docker: false,
  async run(context: BenchContext): Promise<TargetResult[]> {
    const timing = context.quick ? { rounds: 1, seconds: 3 } : { rounds: 3, seconds: 6 };
    await ensurePeerPrograms();
    const originPort = await freePort();
    const config = await renderConfig('origin-text-nginx.conf', context.dir, { DIR: context.dir, PORT: originPort });
    const origin = await servingPeer('origin', originPort, spawnChild('nginx', ['-e', '/dev/null', '-c', config]), (port) => statusOf(port, PLAIN));
    const routes = join(await mkdtemp(join(context.dir, 'routes-')), 'routes.yml');
    const to = `http://127.0.0.1:${originPort}`;
    await writeFile(
      routes,
      [
        'routes:',
        `  - { host: ${PLAIN}, to: "${to}" }`,
        `  - host: ${GUARDED}`,
        `    to: "${to}"`,
        `    auth.basic: "${USERS}"`,
        '    headers: { request: { X-Bench: "1" }, response: { X-Frame-Options: DENY, Server: "" } }',
        '    compress: true',
      ].join('\n') + '\n',
    );
    const berth = await launchBerth({ args: ['--no-docker', '--routes-file', routes, '--access-log=false'], logFile: join(context.dir, 'berth-behaviours.log') });
    const cases = [
      { name: 'plain route', host: PLAIN, headers: ['Accept-Encoding: br'] },
      { name: 'basic auth + headers + brotli', host: GUARDED, headers: [AUTHORIZATION, 'Accept-Encoding: br'] },
      { name: 'basic auth + headers, client takes no compression', host: GUARDED, headers: [AUTHORIZATION] },
    ];
    const runs = new Map<string, WrkResult[]>();
    for (const each of cases) await runWrk({ port: berth.proxyPort, host: each.host, connections: 64, seconds: 1, newConnections: false, headers: each.headers });
    for (let round = 0; round < timing.rounds; round++) {
      for (const each of cases) {
        const result = await runWrk({ port: berth.proxyPort, host: each.host, connections: 64, seconds: timing.seconds, newConnections: false, headers: each.headers });
        runs.set(each.name, [...(runs.get(each.name) ?? []), result]);
      }
    }
    await berth.stop();
    await origin.stop();
    const rps = (name: string) => median((runs.get(name) ?? []).map((run) => run.requestsPerSecond));
    const plain = rps(cases[0]!.name);
    console.log(`${timing.rounds} round(s) of ${timing.seconds} s per case; medians over rounds; the origin answers 2 KiB of text.\n`);
    console.log(
      markdownTable(
        ['route', 'req/s', 'x plain', 'p50', 'p99', 'failed'],
        cases.map((each) => {
          const list = runs.get(each.name) ?? [];
          return [each.name, Math.round(rps(each.name)).toString(), ratio(rps(each.name) / plain), ms(median(list.map((run) => run.p50Ms))), ms(median(list.map((run) => run.p99Ms))), String(list.reduce((sum, run) => sum + run.failures, 0))];
        }),
      ),
    );
    const compressed = rps(cases[1]!.name) / plain;
    const uncompressed = rps(cases[2]!.name) / plain;
    return [{ target: 'a route with auth + headers + compression >= 0.9x a plain route', measured: `${ratio(compressed)} (auth + headers, no compression asked: ${ratio(uncompressed)})`, met: compressed >= 0.9 }];
  },
};
