// Runs the built berth CLI as a child process on free loopback ports, as users run it.
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { request, type LogLine } from '../test/support/berth.js';
import { wallClock } from './http.js';
import { MEMORY_REQUEST } from './memory-message.js';
import { freePort } from './ports.js';
import { spawnChild, type Child } from './processes.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const PROBE = new URL('./memory-probe.js', import.meta.url).href;

export interface BerthLaunch {
  /** berth's own flags; the ports are chosen here. */
  readonly args: readonly string[];
  /** Where berth's stdout (its log, access log included) goes; default: parsed into `logs`. */
  readonly logFile?: string;
  /** Flags for node itself, such as --cpu-prof. */
  readonly nodeOptions?: readonly string[];
  /** Preload the memory probe, so that memory() can report the heap after a full GC. */
  readonly memoryProbe?: boolean;
  readonly readyTimeoutMs?: number;
}

export interface ProcessMemory {
  readonly rss: number;
  readonly heapUsed: number;
}

export interface BenchBerth {
  readonly proxyPort: number;
  readonly adminPort: number;
  readonly pid: number;
  /** Wall-clock times (ms) of the spawn and of the first 200 from /readyz (first sync done). */
  readonly spawnedAt: number;
  readonly readyAt: number;
  /** Parsed log lines (when no logFile was given). */
  readonly logs: readonly LogLine[];
  admin<T>(path: string): Promise<T>;
  /** Needs memoryProbe. */
  memory(): Promise<ProcessMemory>;
  stop(): Promise<void>;
}

export async function launchBerth(launch: BerthLaunch): Promise<BenchBerth> {
  const proxyPort = await freePort();
  const adminPort = await freePort();
  const nodeArgs = [...(launch.nodeOptions ?? []), ...(launch.memoryProbe ? ['--import', PROBE] : [])];
  const args = [...nodeArgs, CLI, '--http-port', String(proxyPort), '--admin-addr', `127.0.0.1:${adminPort}`, ...launch.args];
  const logFd = launch.logFile === undefined ? undefined : openSync(launch.logFile, 'w');
  const spawnedAt = wallClock();
  const child = spawnChild(process.execPath, args, { ...(logFd === undefined ? {} : { stdout: logFd }), ipc: launch.memoryProbe === true });
  if (logFd !== undefined) closeSync(logFd);
  const logs: LogLine[] = [];
  if (logFd === undefined) collectLogs(child, logs);

  const admin = async <T>(path: string): Promise<T> => {
    const response = await request({ port: adminPort, path, method: 'GET', headers: {}, timeoutMs: 10_000 });
    if (response.status !== 200) throw new Error(`GET ${path} on berth's admin answered ${response.status}`);
    return JSON.parse(response.body) as T;
  };
  const readyAt = await waitReady(child, adminPort, launch.readyTimeoutMs ?? 30_000);
  return { proxyPort, adminPort, pid: child.pid, spawnedAt, readyAt, logs, admin, memory: () => askMemory(child), stop: () => child.stop() };
}

function collectLogs(child: Child, logs: LogLine[]): void {
  createInterface({ input: child.process.stdout! }).on('line', (text) => {
    try {
      logs.push(JSON.parse(text) as LogLine);
    } catch {
      // Not a log line (a stray print): nothing to measure in it.
    }
  });
}

/** Polls /readyz every 10 ms; resolves with the wall-clock time of the first 200. */
async function waitReady(child: Child, adminPort: number, timeoutMs: number): Promise<number> {
  let exited = false;
  void child.exited.then(() => (exited = true));
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline && !exited) {
    const status = await request({ port: adminPort, path: '/readyz', method: 'GET', headers: {}, timeoutMs: 2000 }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return wallClock();
    await sleep(10);
  }
  await child.stop();
  throw new Error(`berth was not ready within ${timeoutMs} ms (exited: ${exited}):\n${child.output()}`);
}

function askMemory(child: Child): Promise<ProcessMemory> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: string } & ProcessMemory) => {
      if (message.type !== MEMORY_REQUEST) return;
      child.process.off('message', onMessage);
      resolve({ rss: message.rss, heapUsed: message.heapUsed });
    };
    child.process.on('message', onMessage);
    if (!child.process.send?.(MEMORY_REQUEST)) reject(new Error('berth was started without the memory probe'));
  });
}
