// Runs wrk (one thread) against a loopback port, over HTTP or HTTPS, and reads its summary.
import { execFile } from 'node:child_process';

export interface WrkOptions {
  readonly port: number;
  readonly host: string;
  readonly connections: number;
  readonly seconds: number;
  /** A new connection per request (`Connection: close`) instead of keep-alive. */
  readonly newConnections: boolean;
  /** HTTPS to this URL host (wrk sends it as SNI; it must resolve to 127.0.0.1) instead of HTTP to 127.0.0.1. */
  readonly tlsHost?: string;
  /** More request headers, `Name: value`. */
  readonly headers?: readonly string[];
}

export interface WrkResult {
  readonly requestsPerSecond: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Non-2xx/3xx responses plus socket errors (connect, read, write, timeout). */
  readonly failures: number;
}

export function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--latency', '-H', `Host: ${options.host}`];
  if (options.newConnections) args.push('-H', 'Connection: close');
  for (const header of options.headers ?? []) args.push('-H', header);
  args.push(options.tlsHost === undefined ? `http://127.0.0.1:${options.port}/` : `https://${options.tlsHost}:${options.port}/`);
  return new Promise((resolve, reject) => {
    // wrk stops by itself after -d; the timeout only guards against a wedged run.
    execFile('wrk', args, { timeout: (options.seconds + 30) * 1000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`wrk ${args.join(' ')} failed: ${stderr || error.message}`));
      try {
        resolve(parseWrk(stdout));
      } catch (parseError) {
        reject(parseError);
      }
    });
  });
}

export function parseWrk(text: string): WrkResult {
  const number = (pattern: RegExp) => {
    const match = pattern.exec(text);
    if (!match) throw new Error(`wrk output without ${pattern}:\n${text}`);
    return Number(match[1]);
  };
  const latency = (percent: string) => {
    const match = new RegExp(`^\\s*${percent}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(text);
    if (!match) throw new Error(`wrk output without a ${percent}% latency:\n${text}`);
    return Number(match[1]) * UNIT_MS[match[2]!]!;
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((sum, count) => sum + Number(count), 0) : 0;
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/),
    requests: number(/(\d+) requests in/),
    p50Ms: latency('50'),
    p99Ms: latency('99'),
    failures: socketErrors + (non2xx ? Number(non2xx[1]) : 0),
  };
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
