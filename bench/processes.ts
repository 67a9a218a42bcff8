// Child processes that are stopped at the end, also on failure or Ctrl-C.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { onCleanup } from './cleanup.js';

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  /** The tail of what it wrote to stderr (and stdout, unless redirected), for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL if it is still there after STOP_GRACE_MS. */
  stop(): Promise<void>;
}

const OUTPUT_TAIL = 4096;
const STOP_GRACE_MS = 10_000;

export function spawnChild(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; stdout?: number; ipc?: boolean } = {}): Child {
  const stdio: StdioOptions = ['ignore', options.stdout ?? 'pipe', 'pipe', ...(options.ipc ? ['ipc' as const] : [])];
  const child = spawn(command, args, { env: { ...process.env, ...options.env }, stdio });
  let tail = '';
  const keep = (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL));
  child.stderr?.on('data', keep);
  if (options.stdout === undefined) child.stdout?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (error) => {
      keep(Buffer.from(error.message));
      resolve(null);
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };
  const stopNow = onCleanup(() => stop());
  return {
    process: child,
    pid: child.pid ?? -1,
    exited,
    output: () => tail,
    stop: () => stopNow(),
  };
}
