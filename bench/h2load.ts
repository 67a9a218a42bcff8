// Runs h2load (nghttp2's HTTP/2 load generator, Debian's nghttp2-client) against a loopback HTTPS
// port and reads its summary; the latency percentiles come from its per-request log, since its
// summary gives only min, max and mean.
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { quantile } from './stats.js';

export interface H2loadOptions {
  readonly port: number;
  /** The URL host (SNI); it must resolve to 127.0.0.1. */
  readonly urlHost: string;
  /** Sent as :authority, the host the peers route. */
  readonly authority: string;
  readonly connections: number;
  /** Concurrent streams per connection. */
  readonly streams: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** Where h2load writes its per-request log (removed after reading). */
  readonly logFile: string;
}

export interface H2loadResult {
  readonly requestsPerSecond: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Requests that failed, errored or timed out, plus non-2xx answers. */
  readonly failures: number;
  /** The protocol h2load negotiated (h2 expected). */
  readonly protocol: string;
}

export function runH2load(options: H2loadOptions): Promise<H2loadResult> {
  const args = [
    '-t1',
    `-c${options.connections}`,
    `-m${options.streams}`,
    `-D${options.seconds}`,
    `--warm-up-time=${options.warmupSeconds}`,
    '-H',
    `:authority: ${options.authority}`,
    `--log-file=${options.logFile}`,
    `https://${options.urlHost}:${options.port}/`,
  ];
  return new Promise((resolve, reject) => {
    execFile('h2load', args, { timeout: (options.seconds + options.warmupSeconds + 30) * 1000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`h2load ${args.join(' ')} failed: ${stderr || error.message}\n${stdout}`));
      void readFile(options.logFile, 'utf8')
        .then(async (log) => {
          await rm(options.logFile, { force: true });
          resolve(parseH2load(stdout, log));
        })
        .catch(reject);
    });
  });
}

export function parseH2load(summary: string, log: string): H2loadResult {
  const rate = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(summary);
  const counts = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(summary);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(summary);
  const protocol = /Application protocol: (\S+)/.exec(summary);
  if (!rate || !counts || !codes) throw new Error(`h2load output not understood:\n${summary}`);
  // Each line: start time (us since the epoch), status, microseconds until the end of the response.
  const latencies: number[] = [];
  for (const line of log.split('\n')) {
    const fields = line.split('\t');
    if (fields.length >= 3 && fields[1] !== '-1') latencies.push(Number(fields[2]) / 1000);
  }
  const non2xx = Number(codes[2]) + Number(codes[3]) + Number(codes[4]);
  return {
    requestsPerSecond: Number(rate[1]),
    requests: Number(counts[3]),
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    failures: Number(counts[4]) + Number(counts[5]) + Number(counts[6]) + non2xx,
    protocol: protocol?.[1] ?? 'unknown',
  };
}
