// The Docker Engine API on its unix socket, for what the benchmarks do faster than the CLI can
// (hundreds of containers, 20 starts a second) and for event timestamps.
import http from 'node:http';

const socketPath = engineSocket(process.env['DOCKER_HOST']);

function engineSocket(dockerHost: string | undefined): string {
  if (!dockerHost) return '/var/run/docker.sock';
  if (dockerHost.startsWith('unix://')) return dockerHost.slice('unix://'.length);
  throw new Error(`DOCKER_HOST=${dockerHost}: the benchmarks speak to a local engine over its unix socket only`);
}

/** One request; resolves with the parsed JSON answer (undefined when empty), rejects on a status >= 300. */
export function engine<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  const headers = data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) };
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, headers, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${text.trim()}`));
        else resolve((text === '' ? undefined : JSON.parse(text)) as T);
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 60 s`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** A streaming GET (the events endpoint). */
export function engineStream(path: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path }, (res) => {
      if ((res.statusCode ?? 500) >= 300) reject(new Error(`GET ${path}: ${res.statusCode}`));
      else resolve(res);
    });
    req.on('error', reject);
  });
}

export function filters(value: Record<string, string[]>): string {
  return encodeURIComponent(JSON.stringify(value));
}
