// Convergence: time from `docker run` returning to the first 200 through berth.
// Usage: npm run bench:convergence [-- runs]   (needs a Docker engine: bash scripts/ensure-docker.sh)
import { performance } from 'node:perf_hooks';
import { startSyncedBerth } from '../test/support/berth.js';
import { cleanup, docker, runHttpd, uniqueName } from '../test/support/docker.js';
import { busyboxImage } from '../test/support/images.js';
import { summarize } from './stats.js';

const runs = Number(process.argv[2] ?? 20);
const POLL_LIMIT_MS = 10_000;

async function main(): Promise<void> {
  const image = await busyboxImage();
  const berth = await startSyncedBerth();
  const samples: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const host = `${uniqueName('conv')}.test`;
      const container = await runHttpd({ image, labels: { 'berth.host': host, 'berth.port': '80' } });
      const started = performance.now();
      for (;;) {
        const response = await berth.request(host).catch(() => undefined);
        if (response?.status === 200) break;
        if (performance.now() - started > POLL_LIMIT_MS) throw new Error(`${host} never answered`);
      }
      samples.push(performance.now() - started);
      await docker('rm', '-f', container.name);
    }
  } finally {
    await berth.stop();
    await cleanup();
  }
  console.log(`docker run returned -> first 200 through berth, ${summarize(samples)}`);
}

await main();
