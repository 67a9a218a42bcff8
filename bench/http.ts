// Single requests on loopback, for "is it serving yet" and convergence polling.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** Status of a GET / with the given Host header on a fresh connection; 0 when the request fails. */
export function statusOf(port: number, host: string, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

export interface Answer {
  readonly status: number;
  /** Wall-clock time (ms) the answer arrived. */
  readonly at: number;
}

/** Polls until `accept(status)` holds, back to back unless `intervalMs` is given. */
export async function pollUntil(port: number, host: string, accept: (status: number) => boolean, timeoutMs: number, intervalMs = 0): Promise<Answer> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const status = await statusOf(port, host);
    if (accept(status)) return { status, at: wallClock() };
    if (performance.now() > deadline) throw new Error(`${host} on :${port} still answers ${status} after ${timeoutMs} ms`);
    if (intervalMs > 0) await sleep(intervalMs);
  }
}

/** Milliseconds since the epoch with sub-millisecond precision, comparable with Docker's timeNano. */
export function wallClock(): number {
  return performance.timeOrigin + performance.now();
}
