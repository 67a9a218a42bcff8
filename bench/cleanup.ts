// Whatever a benchmark starts (processes, containers, folders) is registered here, so that a
// failure or a Ctrl-C still removes it.

type Task = () => Promise<void>;

const tasks = new Set<Task>();
let interrupted = false;

/** True after SIGINT or SIGTERM: loops that make things should stop making them. */
export function isInterrupted(): boolean {
  return interrupted;
}

/** Registers a cleanup; the returned function runs it now (once) and unregisters it. */
export function onCleanup(task: Task): () => Promise<void> {
  tasks.add(task);
  return async () => {
    if (tasks.delete(task)) await task();
  };
}

/** Runs every registered cleanup, newest first; one failing does not stop the others. */
export async function cleanupAll(): Promise<void> {
  for (const task of [...tasks].reverse()) {
    tasks.delete(task);
    await task().catch((error: unknown) => console.error(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`));
  }
}

/** On SIGINT or SIGTERM: clean up, then exit 130. */
export function cleanUpOnSignals(): void {
  const stop = (signal: string) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: removing what the benchmarks started...`);
    void cleanupAll().then(() => process.exit(130));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
