// What every sub-benchmark looks like to the dispatcher (index.ts).

export interface BenchContext {
  /** Short runs: fewer rounds, shorter loads, fewer containers. */
  readonly quick: boolean;
  /** A folder for this run's files, removed at the end. */
  readonly dir: string;
}

/** One of berth's performance targets, as measured in this run. */
export interface TargetResult {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

export interface Benchmark {
  /** What to type to select it: `npm run bench -- <name>`. */
  readonly name: string;
  readonly title: string;
  /** Whether it needs a Docker engine. */
  readonly docker: boolean;
  run(context: BenchContext): Promise<TargetResult[]>;
}
