// The proxy listener: for each request, read the current table once, match, pick, forward.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { AddressMatcher } from '../config/cidr.js';
import { normalizeRequestHost } from '../routes/host.js';
import { stripPathPrefix } from '../routes/path.js';
import type { RouteStore } from '../routes/store.js';
import type { Pool } from '../routes/table.js';
import type { Endpoint } from '../routes/types.js';
import { createForwarder } from './forwarder.js';
import { upstreamRequestHeaders } from './headers.js';
import type { ProxyObserver } from './observer.js';
import { hostHeaderValues, requestTarget } from './target.js';
import { notFoundDetail } from './pages.js';
import { clientErrorStatus, rejectUpgrade, sendError, sendRedirect, statusLine } from './responses.js';
import { classifyUpstreamError, mayRetry } from './upstream-errors.js';

export interface ProxyServerOptions {
  readonly store: RouteStore;
  readonly logger: Logger;
  readonly trustedProxies: AddressMatcher;
  readonly upstreamTimeoutMs: number;
  readonly headerTimeoutMs: number;
  /** Longest time to receive a whole request, body included (slow uploads). */
  readonly requestTimeoutMs: number;
  readonly websocketIdleMs: number;
  readonly idleTimeoutMs: number;
  /** Told about every request, failure and connection (metrics, access log). */
  readonly observer?: ProxyObserver;
}

export interface ProxyServer {
  readonly server: http.Server;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts the rest. */
  shutdown(graceMs: number): Promise<void>;
}

export function createProxyServer(options: ProxyServerOptions): ProxyServer {
  const { store, logger, observer } = options;
  const forwarder = createForwarder({
    upstreamTimeoutMs: options.upstreamTimeoutMs,
    websocketIdleMs: options.websocketIdleMs,
    ...(observer ? { onWebSocket: observer.websockets } : {}),
  });
  const server = http.createServer({
    headersTimeout: options.headerTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    // Node checks both timeouts on this period (30 s by default): slowloris needs it short.
    connectionsCheckingInterval: Math.min(1000, options.headerTimeoutMs),
    keepAliveTimeout: options.idleTimeoutMs,
    maxHeaderSize: 16 * 1024,
  });

  if (observer) {
    server.on('connection', (socket: Duplex) => {
      observer.connections(1);
      socket.once('close', () => observer.connections(-1));
    });
  }

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = observer ? performance.now() : 0;
    const routed = route(req);
    const exchange: Exchange = { endpoint: routed.kind === 'forward' ? routed.endpoint : null };
    if (observer) report(observer, req, res, routed, exchange, started);
    if (routed.kind === 'error') return sendError(res, routed.status, routed.detail);
    if (routed.kind === 'redirect') return sendRedirect(res, routed.code, routed.location);
    const { pool, endpoint, path, host, matchPath } = routed;
    const replayable = !hasBody(req);
    req.headers = upstreamRequestHeaders(req.headers, clientFacts(req, false));
    forward(req, res, { pool, path, host, matchPath, replayable, exchange }, endpoint, true);
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (req.method !== 'GET' || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
      return rejectUpgrade(socket, 400, 'Only WebSocket upgrades on GET are proxied.');
    }
    const routed = route(req);
    if (routed.kind === 'error') return rejectUpgrade(socket, routed.status, routed.detail);
    if (routed.kind === 'redirect') return rejectUpgrade(socket, 400, 'This route redirects; it takes no WebSocket.');
    const { endpoint, path } = routed;
    req.url = upstreamPath(endpoint, path, routed.pool);
    req.headers = upstreamRequestHeaders(req.headers, clientFacts(req, true));
    forwarder.ws(req, socket, head, endpoint, (error) => {
      const failure = classifyUpstreamError(error);
      observer?.upstreamError(failure.code);
      logger.warn({ code: failure.code, host: req.headers.host, upstream: describe(endpoint), err: error.message }, 'WebSocket upstream failed');
      rejectUpgrade(socket, failure.status, 'The upstream did not accept the WebSocket.');
    });
  });

  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    if (!socket.writable) return socket.destroy();
    socket.end(`${statusLine(clientErrorStatus(error.code, error.rawPacket))}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  type Routed =
    | { kind: 'forward'; pool: Pool; endpoint: Endpoint; path: string; host: string; matchPath: string }
    | { kind: 'redirect'; pool: Pool; location: string; code: number }
    | { kind: 'error'; status: number; detail: string };

  function route(req: http.IncomingMessage): Routed {
    const target = requestTarget(req.url ?? '', hostHeaderValues(req.rawHeaders));
    if (!target.ok) return { kind: 'error', status: target.status, detail: target.detail };
    const host = target.host;
    // An absolute-form target without a Host header: the upstream still needs one.
    if (req.headers.host === undefined && host !== '') req.headers.host = host;
    const pool = store.current.match(host, target.path);
    if (!pool) return { kind: 'error', status: 404, detail: notFoundDetail(host) };
    const path = target.path + target.query;
    if (pool.redirect) {
      const { location, code, stripPrefix } = pool.redirect;
      return { kind: 'redirect', pool, location: location + (stripPrefix ? stripPathPrefix(path, pool.path) : path), code };
    }
    const endpoint = pool.pick();
    if (!endpoint) return { kind: 'error', status: 503, detail: `No ready endpoint serves ${host}${pool.path} right now.` };
    return { kind: 'forward', pool, endpoint, path, host, matchPath: target.path };
  }

  /** What a retry needs to send the same request elsewhere. */
  interface Attempt {
    readonly pool: Pool;
    readonly path: string;
    /** What the route was matched on, to match again in the latest table for a retry. */
    readonly host: string;
    readonly matchPath: string;
    readonly replayable: boolean;
    readonly exchange: Exchange;
  }

  function forward(req: http.IncomingMessage, res: http.ServerResponse, attempt: Attempt, endpoint: Endpoint, firstTry: boolean): void {
    const { pool, path } = attempt;
    attempt.exchange.endpoint = endpoint;
    req.url = upstreamPath(endpoint, path, pool);
    forwarder.web(req, res, endpoint, (error) => {
      const failure = classifyUpstreamError(error);
      observer?.upstreamError(failure.code);
      if (firstTry && !res.headersSent && mayRetry(req.method ?? 'GET', !attempt.replayable, failure)) {
        // The table may have moved on since the request arrived (a replica just left): ask the latest.
        const latest = store.current.match(attempt.host, attempt.matchPath);
        const next = latest?.redirect ? undefined : latest?.pick(endpoint);
        if (latest && next && next.key !== endpoint.key) {
          observer?.retry();
          logger.debug({ code: failure.code, upstream: describe(endpoint), retry: describe(next) }, 'retrying on another endpoint');
          return forward(req, res, { ...attempt, pool: latest }, next, false);
        }
      }
      logger.warn({ code: failure.code, host: req.headers.host, path, upstream: describe(endpoint), err: error.message }, 'upstream request failed');
      if (res.headersSent) res.destroy();
      else sendError(res, failure.status, failure.status === 504 ? 'The upstream did not answer in time.' : 'The upstream could not be reached.');
    });
  }

  function clientFacts(req: http.IncomingMessage, upgrade: boolean) {
    const remoteAddress = plainAddress(req.socket.remoteAddress ?? '');
    return { remoteAddress, trusted: options.trustedProxies.matches(remoteAddress), localPort: req.socket.localPort ?? 0, encrypted: false, upgrade };
  }

  return {
    server,
    async shutdown(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      forwarder.close();
    },
  };
}

/** Which endpoint is serving a request (it changes when a retry moves it). */
interface Exchange {
  endpoint: Endpoint | null;
}

type RoutedKind = { kind: 'forward' | 'redirect'; pool: Pool } | { kind: 'error' };

/** Tells the observer about the request once its response is done or abandoned. */
function report(observer: ProxyObserver, req: http.IncomingMessage, res: http.ServerResponse, routed: RoutedKind, exchange: Exchange, started: number): void {
  const socket = req.socket;
  const written = socket.bytesWritten;
  const path = req.url ?? '';
  res.once('close', () => {
    const endpoint = exchange.endpoint;
    const requestId = req.headers['x-request-id'];
    observer.request({
      method: req.method ?? '',
      host: normalizeRequestHost(req.headers.host),
      path,
      routeHost: routed.kind === 'error' ? null : (routed.pool.host ?? '*'),
      status: res.statusCode,
      durationMs: performance.now() - started,
      bytes: socket.bytesWritten - written,
      upstream: endpoint ? `${endpoint.address}:${endpoint.port}` : null,
      container: endpoint?.container?.name ?? null,
      requestId: typeof requestId === 'string' ? requestId : null,
      aborted: !res.writableFinished,
    });
  });
}

/** The path the endpoint receives: its own base path, then the request path, prefix stripped if asked. */
function upstreamPath(endpoint: Endpoint, path: string, pool: Pool): string {
  return (endpoint.basePath ?? '') + (endpoint.stripPrefix ? stripPathPrefix(path, pool.path) : path);
}

function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** IPv4 clients of a dual-stack listener show as ::ffff:a.b.c.d; upstreams expect a.b.c.d. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function describe(endpoint: Endpoint): string {
  return `${endpoint.container?.name ?? ''}@${endpoint.address}:${endpoint.port}`;
}
