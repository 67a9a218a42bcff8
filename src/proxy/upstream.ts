// Sends one request upstream with exactly the head berth decided, and relays the response.
// Node's client is given the head as a header array, so it adds nothing (no Host, no framing
// of its own) and nothing re-parses the path; the body is streamed only when berth framed one.
import http from 'node:http';
import https from 'node:https';
import type { Endpoint } from '../routes/types.js';
import { framingHeaders, type Framing } from './headers.js';
import { CONNECT_TIMEOUT, UNASKED_UPGRADE, UPSTREAM_TIMEOUT } from './upstream-errors.js';

export interface UpstreamHead {
  readonly method: string;
  /** Sent as it is: berth routed it and nothing may re-normalise it. */
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly framing: Framing;
  /** The client speaks HTTP/2: no status text, no connection-specific response headers. */
  readonly http2?: boolean;
  /** Strict-Transport-Security to add to the response, or null. */
  readonly hsts?: string | null;
}

export interface Deadlines {
  /** Longest wait for the TCP connection to the upstream. */
  readonly connectMs: number;
  /** Longest silence from the upstream once connected (response head, then body). */
  readonly idleMs: number;
}

export interface Agents {
  readonly http: http.Agent;
  readonly https: https.Agent;
}

// Hop-by-hop response headers (RFC 9110 7.6.1), transfer-encoding (berth frames its own response),
// and HTTP2-Settings: none may reach an HTTP/2 client (RFC 9113 8.2.2), nor means anything to others.
const RESPONSE_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'transfer-encoding', 'http2-settings']);

const timeoutError = (code: string, message: string) => Object.assign(new Error(message), { code });

/**
 * Forwards `req` to `endpoint` and pipes the answer into `res`. `onError` is called at most once,
 * for a failure before the response head was relayed (the caller may retry or answer itself);
 * a failure after that cuts the client's response short.
 */
export function sendUpstream(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  endpoint: Endpoint,
  head: UpstreamHead,
  options: { readonly agents: Agents; readonly deadlines: Deadlines; readonly tls: https.RequestOptions },
  onError: (error: Error) => void,
): void {
  let failed = false;
  let abandoned = false;
  let answered = false;
  const fail = (error: Error) => {
    // A failure that follows the client's leaving is berth's own abort, not the upstream's fault.
    if (failed || abandoned) return;
    failed = true;
    onError(error);
  };
  const secure = endpoint.scheme === 'https';
  let upstream: http.ClientRequest;
  try {
    upstream = (secure ? https : http).request({
      host: endpoint.address,
      port: endpoint.port,
      method: head.method,
      path: head.path,
      headers: headerLines(head),
      setHost: false,
      agent: secure ? options.agents.https : options.agents.http,
      ...(secure ? options.tls : {}),
    });
  } catch (error) {
    // Node refuses a head it cannot send (a character its client rejects): no byte left berth.
    return fail(error as Error);
  }
  const { connectMs, idleMs } = options.deadlines;
  upstream.once('socket', (socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => upstream.destroy(timeoutError(CONNECT_TIMEOUT, 'upstream did not accept the connection in time')), connectMs);
    socket.once('connect', () => clearTimeout(timer));
    upstream.once('close', () => clearTimeout(timer));
  });
  upstream.setTimeout(idleMs, () => upstream.destroy(timeoutError(UPSTREAM_TIMEOUT, 'upstream timed out')));
  upstream.on('error', (error) => {
    if (res.headersSent) res.destroy();
    else fail(error);
  });
  // A 101 berth did not ask for: Node would drop the socket without a word, leaving the client waiting.
  upstream.once('upgrade', (_answer, socket) => {
    socket.destroy();
    fail(Object.assign(new Error('the upstream switched protocols on a plain request'), { code: UNASKED_UPGRADE }));
  });
  // Whatever else ends the request before an answer, the client hears of it.
  upstream.once('close', () => {
    if (!answered) fail(Object.assign(new Error('the upstream closed before answering'), { code: 'ECONNRESET' }));
  });
  // A client that leaves takes its upstream request with it.
  res.once('close', () => {
    if (res.writableFinished) return;
    abandoned = true;
    upstream.destroy();
  });
  req.once('error', () => {
    abandoned = true;
    upstream.destroy();
  });

  upstream.once('response', (answer) => {
    answered = true;
    // A response cut short upstream must be cut short for the client too, not left hanging.
    answer.once('close', () => {
      if (!answer.complete) res.destroy();
    });
    try {
      const lines = responseHeaderLines(answer.rawHeaders);
      if (head.hsts) lines.push('strict-transport-security', head.hsts);
      if (head.http2) res.writeHead(answer.statusCode ?? 502, lines);
      else res.writeHead(answer.statusCode ?? 502, answer.statusMessage, lines);
    } catch (error) {
      // A status text or header value Node will not write: nothing reached the client yet.
      answer.resume();
      upstream.destroy();
      return fail(error as Error);
    }
    answer.pipe(res);
  });

  if (head.framing.kind === 'none') upstream.end();
  else req.pipe(upstream);
}

/** The request head as a flat header list, framing headers as decided. */
function headerLines(head: UpstreamHead): string[] {
  const lines: string[] = [];
  const { headers } = head;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === 'string') lines.push(name, value);
    else for (const one of value) lines.push(name, one);
  }
  lines.push(...framingHeaders(head.framing, head.method));
  return lines;
}

/** The upstream's response headers as received, less hop-by-hop ones and those its Connection names. */
export function responseHeaderLines(raw: readonly string[]): string[] {
  let named: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') {
      named ??= new Set();
      for (const part of raw[i + 1]!.split(',')) named.add(part.trim().toLowerCase());
    }
  }
  const lines: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (RESPONSE_HOP_BY_HOP.has(lower)) continue;
    if (named !== null && named.has(lower) && lower !== 'content-length') continue;
    lines.push(raw[i]!, raw[i + 1]!);
  }
  return lines;
}
