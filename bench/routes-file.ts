// Routes file reload: time from a write to the file to the first 200 on the new route (no Docker).
import { appendFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Benchmark, BenchContext, TargetResult } from './benchmark.js';
import { launchBerth } from './berth.js';
import { pollUntil, wallClock } from './http.js';
import { summarize } from './stats.js';

export const routesFile: Benchmark = {
  name: 'routes-file',
  title: 'Routes file: write -> first 200 on the new route',
  docker: false,
  async run(context: BenchContext): Promise<TargetResult[]> {
    const runs = context.quick ? 10 : 20;
    const upstream = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    const file = join(context.dir, 'reload-routes.yml');
    await writeFile(file, 'routes:\n');
    const berth = await launchBerth({ args: ['--no-docker', '--routes-file', file, '--access-log=false'] });
    const samples: number[] = [];
    try {
      for (let i = 0; i < runs; i++) {
        const host = `r${i}.bench.test`;
        const written = wallClock();
        await appendFile(file, `  - host: ${host}\n    to: http://127.0.0.1:${port}\n`);
        const live = await pollUntil(berth.proxyPort, host, (status) => status === 200, 5000);
        samples.push(live.at - written);
        // Apart by more than chokidar's 50 ms change throttle, as edits by people are.
        await sleep(150);
      }
    } finally {
      await berth.stop();
      upstream.close();
    }
    console.log(`routes file write -> first 200 on the new route, ${summarize(samples)}`);
    return [];
  },
};
