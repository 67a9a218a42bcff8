// Routes file reload: time from a write to the file to the first 200 on the new route.
// Usage: npm run bench:routes-file [-- runs]   (no Docker needed)
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startSyncedBerth } from '../test/support/berth.js';
import { summarize } from './stats.js';

const runs = Number(process.argv[2] ?? 20);

async function main(): Promise<void> {
  const upstream = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const port = (upstream.address() as AddressInfo).port;
  const folder = await mkdtemp(join(tmpdir(), 'berth-bench-'));
  const file = join(folder, 'routes.yml');
  await writeFile(file, 'routes:\n');
  const berth = await startSyncedBerth(['--no-docker', '--routes-file', file]);
  const samples: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const host = `r${i}.bench.test`;
      const written = performance.now();
      await appendFile(file, `  - host: ${host}\n    to: http://127.0.0.1:${port}\n`);
      while ((await berth.request(host)).status !== 200) {
        if (performance.now() - written > 5000) throw new Error(`${host} never went live`);
      }
      samples.push(performance.now() - written);
      // Apart by more than chokidar's 50 ms change throttle, as edits by people are.
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  } finally {
    await berth.stop();
    upstream.close();
    await rm(folder, { recursive: true, force: true });
  }
  console.log(`routes file write -> first 200 on the new route, ${summarize(samples)}`);
}

await main();
