// Runs berth as users do (the built CLI in a child process) and talks to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

import { cleanup } from './docker.js';
import { httpRequest, type HttpResponse } from './http.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface EndpointView {
  readonly container: string | null;
  readonly url: string;
  readonly ready: boolean;
  readonly notReadyReason: string | null;
}

export type Response = HttpResponse;

export class RunningBerth {
  readonly logs: LogLine[] = [];
  private readonly exited: Promise<number | null>;

  constructor(
    private readonly child: ChildProcess,
    readonly proxyPort: number,
    readonly adminPort: number,
    logs: LogLine[],
  ) {
    this.logs = logs;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** A request through the proxy with the given Host header; a fresh connection each time. */
  request(host: string, path = '/', init: { method?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Response> {
    return request({ port: this.proxyPort, path, method: init.method ?? 'GET', headers: { host, ...init.headers }, timeoutMs: init.timeoutMs ?? 5000 });
  }

  async admin<T = unknown>(path: string): Promise<T> {
    const response = await request({ port: this.adminPort, path, method: 'GET', headers: {}, timeoutMs: 5000 });
    return JSON.parse(response.body) as T;
  }

  /** The status code of an admin endpoint. */
  async adminStatus(path: string): Promise<number> {
    return (await request({ port: this.adminPort, path, method: 'GET', headers: {}, timeoutMs: 5000 })).status;
  }

  /** The endpoints /api/routes lists for a host's routes (empty when it has none). */
  async endpointsOf(host: string): Promise<EndpointView[]> {
    const { routes } = await this.admin<{ routes: Array<{ host: string; endpoints: EndpointView[] }> }>('/api/routes');
    return routes.filter((route) => route.host === host).flatMap((route) => route.endpoints);
  }

  /** Sends SIGTERM and resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get exitCode(): Promise<number | null> {
    return this.exited;
  }
}

/** Starts berth on free ports and resolves once both listeners are up (not yet synced). */
export async function startBerth(args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningBerth> {
  const child = spawn(process.execPath, [CLI, '--http-port', '0', '--admin-addr', '127.0.0.1:0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ports = await new Promise<{ proxy: number; admin: number }>((resolve, reject) => {
    const found: Record<string, number> = {};
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return;
      }
      logs.push(line);
      if (line.msg === 'listening') found[String(line['listener'])] = Number(line['port']);
      if (found['proxy'] && found['admin']) resolve({ proxy: found['proxy'], admin: found['admin'] });
    });
    child.once('exit', (code) => reject(new Error(`berth exited with ${code} before listening: ${stderr}${logs.map((l) => JSON.stringify(l)).join('\n')}`)));
    // The ports come from info-level "listening" lines: a quieter log level never shows them.
    setTimeout(() => reject(new Error('berth logged no "listening" lines within 10 s (is --log-level above info?)')), 10_000).unref();
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return new RunningBerth(child, ports.proxy, ports.admin, logs);
}

/**
 * For a suite: a synced berth started before its tests, stopped after them together with
 * every container and network the tests made.
 */
export function useBerth(args: readonly string[] = []): () => RunningBerth {
  let berth: RunningBerth | undefined;
  before(async () => {
    berth = await startSyncedBerth(args);
  });
  after(async () => {
    await berth?.stop();
    await cleanup();
  });
  return () => {
    if (!berth) throw new Error('berth is not running: useBerth() must be called inside describe()');
    return berth;
  };
}

/** Starts berth and waits until its first Docker sync is done. */
export async function startSyncedBerth(args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningBerth> {
  const berth = await startBerth(args, env);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await berth.adminStatus('/readyz')) === 200) return berth;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await berth.stop();
  throw new Error('berth did not become ready within 10 s');
}

export function request(options: { port: number; path: string; method: string; headers: Record<string, string>; timeoutMs: number; host?: string }): Promise<Response> {
  const { port, path, method, headers, timeoutMs } = options;
  return httpRequest({ host: options.host ?? '127.0.0.1', port, path }, { method, headers, timeoutMs });
}
