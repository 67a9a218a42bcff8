// Constant load on one host from this process: keep-alive connections each sending GET / back to
// back, bounded in time and count. Every failed request is counted by kind (status or error code),
// which wrk does not tell.
import http from 'node:http';

export interface LoadOptions {
  readonly port: number;
  readonly host: string;
  readonly connections: number;
  readonly maxDurationMs: number;
  readonly maxRequests: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly failed: number;
  /** `503`, `ECONNRESET`, `timeout`... -> count. */
  readonly failures: Readonly<Record<string, number>>;
  readonly latenciesMs: readonly number[];
  readonly durationMs: number;
}

export interface Load {
  /** Ends the load early; resolves with what it measured. */
  stop(): Promise<LoadResult>;
  readonly done: Promise<LoadResult>;
}

const REQUEST_TIMEOUT_MS = 5000;

export function startLoad(options: LoadOptions): Load {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const started = performance.now();
  const deadline = started + options.maxDurationMs;
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let sent = 0;
  let stopped = false;
  const fail = (kind: string) => (failures[kind] = (failures[kind] ?? 0) + 1);

  const once = () =>
    new Promise<void>((resolve) => {
      const begun = performance.now();
      const req = http.get({ host: '127.0.0.1', port: options.port, path: '/', headers: { host: options.host }, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - begun);
          if (res.statusCode !== 200) fail(String(res.statusCode));
          resolve();
        });
        res.on('error', (error: NodeJS.ErrnoException) => {
          fail(error.code ?? error.message);
          resolve();
        });
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
      req.on('error', (error: NodeJS.ErrnoException) => {
        fail(error.code ?? error.message);
        resolve();
      });
    });

  const loop = async () => {
    while (!stopped && sent < options.maxRequests && performance.now() < deadline) {
      sent++;
      await once();
    }
  };
  const done = Promise.all(Array.from({ length: options.connections }, loop)).then((): LoadResult => {
    agent.destroy();
    return {
      requests: sent,
      failed: Object.values(failures).reduce((sum, count) => sum + count, 0),
      failures,
      latenciesMs: latencies,
      durationMs: performance.now() - started,
    };
  });
  return {
    done,
    stop() {
      stopped = true;
      return done;
    },
  };
}

export function describeFailures(result: LoadResult): string {
  const kinds = Object.entries(result.failures).map(([kind, count]) => `${kind} x${count}`);
  return kinds.length === 0 ? '0' : `${result.failed} (${kinds.join(', ')})`;
}
