// `npm run bench [-- --quick] [name ...]`: runs the selected benchmarks (all by default) one after
// another, prints each as Markdown, then the targets as met or missed. Ratios in a table
// compare figures measured in the same run; absolute figures depend on the machine and its load.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import type { Benchmark, TargetResult } from './benchmark.js';
import { behaviours } from './behaviours.js';
import { churn } from './churn.js';
import { cleanupAll, cleanUpOnSignals, onCleanup } from './cleanup.js';
import { convergence } from './convergence.js';
import { httpsBench } from './https.js';
import { http2Bench } from './http2.js';
import { lookup } from './lookup.js';
import { rolling } from './rolling.js';
import { rebuild } from './rebuild.js';
import { routesFile } from './routes-file.js';
import { scale } from './scale.js';
import { stores } from './stores.js';
import { swarm } from './swarm.js';
import { markdownTable } from './table.js';
import { throughput } from './throughput.js';

const BENCHMARKS: readonly Benchmark[] = [throughput, behaviours, httpsBench, http2Bench, convergence, routesFile, churn, rolling, scale, lookup, rebuild, stores, swarm];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const names = args.filter((arg) => !arg.startsWith('--'));
const unknown = names.filter((name) => !BENCHMARKS.some((benchmark) => benchmark.name === name));
if (args.includes('--help') || unknown.length > 0) {
  if (unknown.length > 0) console.error(`unknown benchmark: ${unknown.join(', ')}`);
  console.error(`usage: npm run bench -- [--quick] [${BENCHMARKS.map((benchmark) => benchmark.name).join('|')} ...]`);
  process.exit(unknown.length > 0 ? 2 : 0);
}
const selected = names.length === 0 ? BENCHMARKS : BENCHMARKS.filter((benchmark) => names.includes(benchmark.name));

cleanUpOnSignals();
const began = performance.now();
const load = () => os.loadavg().map((value) => value.toFixed(2)).join(', ');
console.log(`# berth benchmarks${quick ? ' (quick)' : ''}\n`);
console.log(`- date: ${new Date().toISOString()}`);
console.log(`- machine: ${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${os.release()}`);
console.log(`- Node ${process.version}`);
console.log(`- command: npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`);
console.log(`- load average (1, 5, 15 min) at start: ${load()}`);

const targets: TargetResult[] = [];
const failed: string[] = [];
for (const benchmark of selected) {
  console.log(`\n## ${benchmark.title}\n`);
  const started = performance.now();
  const dir = await mkdtemp(join(os.tmpdir(), `berth-bench-${benchmark.name}-`));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  try {
    targets.push(...(await benchmark.run({ quick, dir })));
  } catch (error) {
    failed.push(benchmark.name);
    console.log(`\n**${benchmark.name} failed:** ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    await cleanupAll();
  }
  console.log(`\n(${benchmark.name}: ${((performance.now() - started) / 1000).toFixed(0)} s, load average now ${load()})`);
}

if (targets.length > 0) {
  console.log('\n## Targets\n');
  console.log(markdownTable(['target', 'measured', ''], targets.map((t) => [t.target, t.measured, t.met ? 'met' : '**missed**'])));
}
console.log(`\nTotal ${((performance.now() - began) / 1000).toFixed(0)} s; load average at the end: ${load()}.`);
if (failed.length > 0) console.log(`Benchmarks that could not run: ${failed.join(', ')}.`);
process.exit(failed.length > 0 ? 1 : 0);
