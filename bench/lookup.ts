// Route lookup in-process, on src's own RouteTable: ns per match() at 10, 1,000 and 10,000 routes,
// for exact hosts and for wildcard hosts. A table that scanned its routes would grow 1,000-fold
// from the first size to the last, a tree about 4-fold; a flat one grows only as its memory falls
// out of the CPU caches.
import { RouteTable } from '../src/routes/table.js';
import type { RouteSpec } from '../src/routes/types.js';
import type { Benchmark, BenchContext, TargetResult } from './benchmark.js';
import { median } from './stats.js';
import { markdownTable, ms, ratio } from './table.js';

const SIZES = [10, 1_000, 10_000] as const;
/** Lookups cycle through this many hosts, drawn at random from the table. */
const QUERY_COUNT = 4096;
const BATCHES = 5;
/** How much slower the largest table may look up than the smallest and still count as flat (below a tree's log growth). */
const FLAT_FACTOR = 3;

interface Sized {
  readonly routes: number;
  readonly buildMs: number;
  readonly exactNs: number;
  readonly wildcardNs: number;
}

export const lookup: Benchmark = {
  name: 'lookup',
  title: 'Route lookup (in-process microbenchmark of RouteTable.match)',
  docker: false,
  async run(context: BenchContext): Promise<TargetResult[]> {
    const lookups = context.quick ? 300_000 : 2_000_000;
    const results = SIZES.map((size) => measure(size, lookups));
    console.log(`${BATCHES} batches of ${lookups} lookups per cell, median; hosts drawn at random from the table, path /.\n`);
    console.log(
      markdownTable(
        ['routes', 'build the table', 'exact host', 'wildcard host'],
        results.map((r) => [String(r.routes), ms(r.buildMs), `${r.exactNs.toFixed(1)} ns`, `${r.wildcardNs.toFixed(1)} ns`]),
      ),
    );
    const smallest = results[0]!;
    const largest = results[results.length - 1]!;
    const growth = Math.max(largest.exactNs / smallest.exactNs, largest.wildcardNs / smallest.wildcardNs);
    return [{ target: `lookup flat from 10 to 10,000 routes (within ${FLAT_FACTOR}x)`, measured: `${ratio(largest.exactNs / smallest.exactNs)} exact, ${ratio(largest.wildcardNs / smallest.wildcardNs)} wildcard`, met: growth <= FLAT_FACTOR }];
  },
};

function measure(size: number, lookups: number): Sized {
  const exactSpecs = Array.from({ length: size }, (_, i) => spec(`h${i}.bench.test`, i));
  const wildcardSpecs = Array.from({ length: size }, (_, i) => spec(`*.w${i}.bench.test`, i));
  const builds = Array.from({ length: BATCHES }, () => timeMs(() => RouteTable.build(exactSpecs, ['docker'], 1)));
  const exact = RouteTable.build(exactSpecs, ['docker'], 1).table;
  const wildcard = RouteTable.build(wildcardSpecs, ['docker'], 1).table;
  const random = seededRandom(size);
  const picks = Array.from({ length: QUERY_COUNT }, () => Math.floor(random() * size));
  return {
    routes: size,
    buildMs: median(builds),
    exactNs: nsPerLookup(exact, picks.map((i) => `h${i}.bench.test`), lookups),
    wildcardNs: nsPerLookup(wildcard, picks.map((i) => `app.w${i}.bench.test`), lookups),
  };
}

function nsPerLookup(table: RouteTable, hosts: readonly string[], lookups: number): number {
  let found = 0;
  const batch = () => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < lookups; i++) if (table.match(hosts[i & (QUERY_COUNT - 1)]!, '/')) found++;
    return Number(process.hrtime.bigint() - started) / lookups;
  };
  batch(); // warm-up: let the JIT settle before timing
  const times = Array.from({ length: BATCHES }, batch);
  if (found !== lookups * (BATCHES + 1)) throw new Error(`only ${found} of ${lookups * (BATCHES + 1)} lookups matched`);
  return median(times);
}

function spec(host: string, i: number): RouteSpec {
  return {
    host,
    path: '/',
    source: 'docker',
    endpoint: { key: `c${i}:80`, scheme: 'http', address: `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 80, ready: true, stripPrefix: false },
  };
}

function timeMs(task: () => unknown): number {
  const started = performance.now();
  task();
  return performance.now() - started;
}

/** Same draws on every run, so that runs compare. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}
