import { request, type IncomingHttpHeaders } from 'node:http';

export interface HttpGetOptions {
  /** Host header to send instead of the URL's host (how a test picks a route). */
  host?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpTarget {
  host: string;
  port: number;
  /** Sent as written: no URL parsing resolves its dot segments or slashes. */
  path: string;
}

/** One GET on a fresh connection (no agent, so no keep-alive state leaks between requests). */
export function httpGet(url: string, { host, headers = {}, timeoutMs = 5_000 }: HttpGetOptions = {}): Promise<HttpResponse> {
  const { hostname, port, pathname, search } = new URL(url);
  return httpRequest(
    { host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 80), path: pathname + search },
    { method: 'GET', headers: host === undefined ? headers : { ...headers, host }, timeoutMs },
  );
}

/** One request on a fresh connection; rejects when the whole response takes longer than `timeoutMs`. */
export function httpRequest(target: HttpTarget, { method, headers, timeoutMs }: { method: string; headers: Record<string, string>; timeoutMs: number }): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) =>
      reject(err.name === 'AbortError' ? new Error(`${method} ${target.host}:${target.port}${target.path} got no full response within ${timeoutMs} ms`) : err);
    const req = request({ ...target, method, headers, agent: false, signal: AbortSignal.timeout(timeoutMs) });
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.end();
  });
}
