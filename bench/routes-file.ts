// Routes file reload: time from a write to the file to the first 200 on the new route (no Docker);
// and a file of 10,000 routes: berth spawned -> ready, and one changed line -> live.
import { appendFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Benchmark, BenchContext, TargetResult } from './benchmark.js';
import type { LogLine } from '../test/support/berth.js';
import { launchBerth } from './berth.js';
import { pollUntil, wallClock } from './http.js';
import { median, summarize } from './stats.js';
import { bytes, markdownTable, ms } from './table.js';

const LARGE = 10_000;
const START_TARGET_MS = 500;
const CHANGE_TARGET_MS = 100;

export const routesFile: Benchmark = {
  name: 'routes-file',
  title: 'Routes file: write -> first 200 on the new route; a file of 10,000 routes',
  docker: false,
  async run(context: BenchContext): Promise<TargetResult[]> {
    const upstream = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    try {
      await appendedRoutes(context, port);
      return await largeFile(context, port);
    } finally {
      upstream.close();
    }
  },
};

async function appendedRoutes(context: BenchContext, port: number): Promise<void> {
  const runs = context.quick ? 10 : 20;
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
  }
  console.log(`routes file write -> first 200 on the new route, ${summarize(samples)}\n`);
}

/**
 * 10,000 routes, each to a port where nothing listens (502) but one: a changed line moves route
 * i to the live upstream (200), and the next change moves it back. Start to ready is timed from
 * the spawn (node's own start included) to the first 200 of /readyz.
 */
async function largeFile(context: BenchContext, port: number): Promise<TargetResult[]> {
  const starts = context.quick ? 3 : 5;
  const changes = context.quick ? 10 : 20;
  const file = join(context.dir, 'large-routes.yml');
  const deadPort = 9; // discard: nothing listens on loopback's port 9 here, so answers are 502
  const lines = (live: number) => {
    const out = ['routes:'];
    for (let i = 0; i < LARGE; i++) out.push(`  - host: l${i}.bench.test`, `    to: http://127.0.0.1:${i === live ? port : deadPort}`);
    return out.join('\n') + '\n';
  };
  await writeFile(file, lines(-1));
  const args = ['--no-docker', '--routes-file', file, '--access-log=false'];
  const startSamples: number[] = [];
  const syncSamples: number[] = [];
  for (let i = 0; i < starts; i++) {
    const berth = await launchBerth({ args, memoryProbe: i === 0 });
    startSamples.push(berth.readyAt - berth.spawnedAt);
    // The routes file's part: from listening (node and berth's modules loaded) to the first sync.
    await sleep(100);
    syncSamples.push(logTime(berth.logs, 'first sync of every source done; ready') - logTime(berth.logs, 'listening'));
    await berth.stop();
  }
  const berth = await launchBerth({ args, memoryProbe: true });
  const changeSamples: number[] = [];
  let before: number;
  let after: number;
  try {
    before = (await berth.memory()).rss;
    await pollUntil(berth.proxyPort, 'l0.bench.test', (status) => status === 502, 5000);
    for (let i = 0; i < changes; i++) {
      // Spread over the file: a change near the end costs what one near the start does.
      const index = Math.floor(((i + 0.5) * LARGE) / changes);
      const written = wallClock();
      await writeFile(file, lines(index));
      const live = await pollUntil(berth.proxyPort, `l${index}.bench.test`, (status) => status === 200, 5000);
      changeSamples.push(live.at - written);
      await sleep(150);
    }
    after = (await berth.memory()).rss;
  } finally {
    await berth.stop();
  }
  const startMs = median(startSamples);
  const changeMs = median(changeSamples);
  console.log(
    markdownTable(
      ['10,000 routes in the file', 'value'],
      [
        [`berth spawned -> /readyz 200, median of ${startSamples.length}`, ms(startMs)],
        ['of which: "listening" -> "first sync done" (berth\'s log: reading the file, building the table)', ms(median(syncSamples))],
        [`one changed line: write -> 200 on the changed route, ${summarize(changeSamples)}`, ms(changeMs)],
        [`RSS after the first sync -> after ${changes} changes`, `${bytes(before)} -> ${bytes(after)}`],
      ],
    ),
  );
  return [
    { target: `routes file of 10,000 routes: start to ready < ${START_TARGET_MS} ms`, measured: ms(startMs), met: startMs < START_TARGET_MS },
    { target: `routes file of 10,000 routes: one changed line to live < ${CHANGE_TARGET_MS} ms`, measured: ms(changeMs), met: changeMs < CHANGE_TARGET_MS },
  ];
}

function logTime(logs: readonly LogLine[], message: string): number {
  const line = logs.find((entry) => entry.msg === message);
  return line ? Number(line['time']) : Number.NaN;
}
