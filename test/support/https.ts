// Verified HTTPS requests to berth, and retrying until something works.
import type http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface HttpsAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly alpn?: string | false | null;
}

/** A verified HTTPS request over HTTP/1.1 to berth for `host`, trusting `ca`; a new connection each time. */
export function getHttps(port: number, host: string, ca: string, path = '/'): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    // Offer ALPN as browsers do, so berth's choice shows.
    const options = { host: '127.0.0.1', port, path, servername: host, headers: { host }, ca, agent: false, timeout: 5000, ALPNProtocols: ['http/1.1'] } as https.RequestOptions;
    const req = https.get(options, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, alpn: (res.socket as TLSSocket).alpnProtocol ?? false }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/** Retries `attempt` until it succeeds or `ms` pass; returns the value and how long it took. */
export async function within<T>(ms: number, attempt: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  let last: unknown;
  while (performance.now() - started < ms) {
    try {
      return { value: await attempt(), ms: performance.now() - started };
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`not within ${ms} ms: ${String(last)}`);
}
