// What the observer (metrics, access log) is told of each request, as plain records.
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import { normalizeRequestHost } from '../routes/host.js';
import type { Endpoint } from '../routes/types.js';
import type { ProxyObserver, RequestRecord } from './observer.js';
import { isHttp2 } from './request-facts.js';
import type { Decision } from './route.js';

/** Which endpoint is serving a request (it changes when a retry moves it). */
export interface Exchange {
  endpoint: Endpoint | null;
  /** The X-Request-Id the upstream was sent, for the access log. */
  requestId: string | null;
  /** berth's code when berth answered itself (a refusal, a route's 401/403/429/413). */
  code: string | null;
}

/** What a request's report needs once its response is done, kept on the response for a shared listener. */
interface Pending {
  readonly observer: ProxyObserver;
  readonly req: http.IncomingMessage;
  readonly exchange: Exchange;
  readonly started: number;
  /** The socket's byte count before this response. */
  readonly written: number;
  readonly path: string;
  readonly routeHost: string | null;
}

const PENDING = Symbol('berth.report');

/** Tells the observer about the request once its response is done or abandoned. */
export function report(observer: ProxyObserver, req: http.IncomingMessage, res: http.ServerResponse, decision: Decision, exchange: Exchange, started: number): void {
  const pool = decision.pool;
  const pending: Pending = { observer, req, exchange, started, written: req.socket.bytesWritten, path: req.url ?? '', routeHost: pool ? (pool.host ?? '*') : null };
  (res as { [PENDING]?: Pending })[PENDING] = pending;
  res.on('close', reportClosed);
}

function reportClosed(this: http.ServerResponse): void {
  const { observer, req, exchange, started, written, path, routeHost } = (this as { [PENDING]?: Pending })[PENDING]!;
  const endpoint = exchange.endpoint;
  const requestId = exchange.requestId ?? req.headers['x-request-id'];
  observer.request({
    method: req.method ?? '',
    host: normalizeRequestHost(req.headers.host),
    path,
    routeHost,
    // Nothing sent: what nginx logs for a client that closed first.
    status: this.headersSent ? this.statusCode : 499,
    code: exchange.code,
    durationMs: performance.now() - started,
    // HTTP/2 streams share their session's socket: its count is not this response's (0 then).
    bytes: isHttp2(req) ? 0 : req.socket.bytesWritten - written,
    upstream: endpoint ? `${endpoint.address}:${endpoint.port}` : null,
    container: endpoint?.container?.name ?? null,
    requestId: typeof requestId === 'string' ? requestId : null,
    aborted: !this.writableFinished,
  });
}

/** A pipelined request whose client left before its turn came. */
export function droppedRecord(req: http.IncomingMessage, routeHost: string | null): RequestRecord {
  const requestId = req.headers['x-request-id'];
  return {
    method: req.method ?? '',
    host: normalizeRequestHost(req.headers.host),
    path: req.url ?? '',
    routeHost,
    status: 499,
    code: null,
    durationMs: 0,
    bytes: 0,
    upstream: null,
    container: null,
    requestId: typeof requestId === 'string' ? requestId : null,
    aborted: true,
  };
}

