// The proxy listener: for each request, read the current table once, decide, forward.
import http from 'node:http';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { decide as decideBehaviours, responseHeaderEdits, type Decision as BehaviourDecision, type RequestFacts as BehaviourFacts } from '../behaviours/pipeline.js';
import type { HeaderEdit } from '../behaviours/spec.js';
import type { ChallengeAnswers } from '../certs/types.js';
import type { AddressMatcher } from '../config/cidr.js';
import { Codes } from '../errors.js';
import type { RouteStore } from '../routes/store.js';
import type { Pool } from '../routes/table.js';
import type { Endpoint } from '../routes/types.js';
import { canonicalJson } from '../util/digest.js';
import { bracketed, plainAddress } from '../util/ip.js';
import { nextRequestId } from '../util/request-id.js';
import { answerChallenge } from './challenge.js';
import { askForwardAuth, closeForwardAuthAgents, type ForwardAuthRequest } from './forward-auth.js';
import { createForwarder } from './forwarder.js';
import { applyEdits, lastForwardedFor, NO_EDITS, pairs } from './header-edits.js';
import { requestFraming, upstreamRequestHeaders, type ClientFacts, type Framing } from './headers.js';
import { createHttpsListener, type HttpsHandlers, type HttpsOptions } from './https.js';
import { oneAtATime } from './lanes.js';
import type { ProxyObserver } from './observer.js';
import { droppedRecord, report, type Exchange } from './report.js';
import { authorityOf2, factsOf, http2Framing, isEncrypted, isHttp2 } from './request-facts.js';
import { clientErrorStatus, rejectUpgrade, relayAnswer, sendAnswer, sendError, sendRedirect, sendRefusal, statusLine } from './responses.js';
import { decide, MAX_REQUEST_HEADERS, strippedPrefix, upstreamPath, type Decision } from './route.js';
import { hostHeaderValues, requestTarget, type EncodedChar } from './target.js';
import { stickyCookie } from './sticky.js';
import { classifyUpstreamError, mayRetry } from './upstream-errors.js';

export interface ProxyServerOptions {
  readonly store: RouteStore;
  readonly logger: Logger;
  readonly trustedProxies: AddressMatcher;
  readonly connectTimeoutMs: number;
  readonly upstreamTimeoutMs: number;
  readonly headerTimeoutMs: number;
  /** Longest time to receive a whole request, body included (slow uploads). */
  readonly requestTimeoutMs: number;
  readonly websocketIdleMs: number;
  readonly idleTimeoutMs: number;
  /** Encoded characters paths may hold where a route says nothing of its own. */
  readonly allowEncoded: ReadonlySet<EncodedChar>;
  readonly keepUnderscoreHeaders: boolean;
  /** Told about every request, failure and connection (metrics, access log). */
  readonly observer?: ProxyObserver;
  /** Serve HTTPS too: certificates by SNI, and the port plain requests are redirected to. */
  readonly https?: { readonly port: number; readonly certificates: HttpsCertificates };
  /** ACME challenges, answered before any routing. */
  readonly challenges?: ChallengeAnswers;
}

export type HttpsCertificates = Pick<HttpsOptions, 'contextFor' | 'fallback' | 'challengeContextFor'>;

export interface ProxyServer {
  readonly server: http.Server;
  /** The HTTPS listener's server, when HTTPS is on. */
  readonly httpsServer: net.Server | null;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts the rest. */
  shutdown(graceMs: number): Promise<void>;
}

export function createProxyServer(options: ProxyServerOptions): ProxyServer {
  const { store, logger, observer } = options;
  // The HTTPS port is known for sure once its listener is bound (port 0 picks one).
  const policy = { allowEncoded: options.allowEncoded, httpsPort: options.https?.port ?? null };
  const forwarder = createForwarder({
    connectTimeoutMs: options.connectTimeoutMs,
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
  // One more than berth accepts, so that a request over the limit is seen and refused, never cut short.
  server.maxHeadersCount = MAX_REQUEST_HEADERS + 1;

  /** Every client connection counted while it is open, on each listener. */
  const countConnections = (listener: net.Server) => {
    if (!observer) return;
    listener.on('connection', (socket: Duplex) => {
      observer.connections(1);
      socket.once('close', () => observer.connections(-1));
    });
  };
  countConnections(server);

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const started = observer ? performance.now() : 0;
    if (options.challenges && answerChallenge(req, res, options.challenges)) return;
    const decision = decide(store.current, factsOf(req), policy);
    const exchange: Exchange = { endpoint: decision.kind === 'forward' ? decision.endpoint : null, requestId: null, code: decision.kind === 'refuse' ? decision.code : null };
    if (observer) report(observer, req, res, decision, exchange, started);
    if (decision.kind === 'refuse') return sendRefusal(res, decision.status, decision.detail, decision.code, isHttp2(req));
    if (decision.kind === 'redirect') return sendRedirect(res, decision.code, decision.location);
    const behaviours = decision.pool.behaviours;
    if (!behaviours) return proceed(req, res, decision, exchange, NO_EDITS, null);
    const verdict = decideBehaviours(behaviours, behaviourFacts(req));
    const then = (outcome: BehaviourDecision) => {
      if (outcome.kind !== 'continue') {
        exchange.code = outcome.code;
        return sendAnswer(res, outcome, isHttp2(req));
      }
      const forwardAuth = behaviours.spec.forwardAuth;
      if (!forwardAuth) return proceed(req, res, decision, exchange, outcome.requestHeaders, outcome.maxBodyBytes);
      void askForwardAuth(forwardAuth, authRequest(req, decision), options.upstreamTimeoutMs).then((asked) => {
        if (asked.kind === 'allow') return proceed(req, res, decision, exchange, [...outcome.requestHeaders, ...asked.edits], outcome.maxBodyBytes);
        exchange.code = asked.kind === 'answer' ? Codes.requestAuth : Codes.authUnreachable;
        if (asked.kind === 'answer') return relayAnswer(res, asked.status, asked.headers, asked.body);
        logger.warn({ code: Codes.authUnreachable, host: decision.host, url: forwardAuth.url, err: asked.error.message }, 'the auth service could not be asked');
        sendError(res, 502, 'The auth service of this route could not be asked.', Codes.authUnreachable);
      }).catch((error: unknown) => {
        logger.error({ code: Codes.internal, err: error }, 'answering after forward auth failed');
        sendError(res, 500, 'The request could not be checked.', Codes.internal);
      });
    };
    if (!(verdict instanceof Promise)) return then(verdict);
    verdict.then(then).catch((error: unknown) => {
      logger.error({ code: Codes.internal, err: error }, 'checking a request against its route failed');
      exchange.code = Codes.internal;
      sendError(res, 500, 'The request could not be checked.', Codes.internal);
    });
  }

  /** A request its route lets through: on to an endpoint. */
  function proceed(req: http.IncomingMessage, res: http.ServerResponse, decision: Forward, exchange: Exchange, edits: readonly HeaderEdit[], maxBodyBytes: number | null): void {
    // The client may have left while its route's checks ran (HTTP/2 responses say so on their stream).
    if (res.destroyed || (res as { stream?: { destroyed?: boolean } }).stream?.destroyed || req.socket?.destroyed) return;
    // Expect: 100-continue: the client sends its body only for a request berth will forward.
    if (expectsContinue.has(req)) res.writeContinue();
    // An absolute-form target, or HTTP/2's :authority, without a Host header: the upstream needs one.
    if (req.headers.host === undefined && decision.host !== '') req.headers.host = authorityOf2(req) ?? decision.host;
    const framing = isHttp2(req) ? http2Framing(req) : requestFraming(req.headers);
    const attempt: Attempt = { decision, framing, exchange, edits, maxBodyBytes };
    forward(req, res, attempt, decision.pool, decision.endpoint, true);
  }

  // A connection's client facts hold for each of its requests: worked out once per connection.
  const factsBySocket = new WeakMap<object, ClientFacts>();

  /** Who the client is, and whether it is a proxy berth trusts. */
  function clientFactsOf(req: http.IncomingMessage, upgrade: boolean): ClientFacts {
    // HTTP/2 requests see their stream through a proxy object of its own: nothing to share.
    const cached = upgrade || isHttp2(req) ? undefined : factsBySocket.get(req.socket);
    if (cached) return cached;
    const remoteAddress = plainAddress(req.socket.remoteAddress ?? '');
    const facts = { remoteAddress, trusted: options.trustedProxies.matches(remoteAddress), localPort: req.socket.localPort ?? 0, encrypted: isEncrypted(req), upgrade };
    if (!upgrade && !isHttp2(req)) factsBySocket.set(req.socket, facts);
    return facts;
  }

  /** What a route's auth service is told of a request: berth's own forwarding headers, never a client's. */
  function authRequest(req: http.IncomingMessage, decision: Forward): ForwardAuthRequest {
    const client = clientFactsOf(req, false);
    const headers = upstreamRequestHeaders(req.headers, client, { keepUnderscores: options.keepUnderscoreHeaders, strippedPrefix: null });
    // The path as routed (dot segments resolved, slashes merged), never the raw target: the service must judge what the upstream gets.
    return { method: req.method ?? 'GET', uri: decision.target, host: typeof req.headers.host === 'string' ? req.headers.host : decision.host, proto: client.encrypted ? 'https' : 'http', clientAddress: behaviourFacts(req).clientAddress, headers };
  }

  /** What a route's allow list and rate limit see: the socket's peer, or the client a trusted proxy names. */
  function behaviourFacts(req: http.IncomingMessage): BehaviourFacts {
    const peer = plainAddress(req.socket.remoteAddress ?? '');
    const forwarded = options.trustedProxies.matches(peer) ? lastForwardedFor(req.headers['x-forwarded-for']) : null;
    const length = req.headers['content-length'];
    return { clientAddress: forwarded ?? peer, method: req.method ?? '', headers: req.headers, contentLength: length === undefined ? null : Number(length) };
  }

  const inTurn = oneAtATime(handle, (req) => observer?.request(droppedRecord(req, routeHostOf(req))));
  // HTTP/2 streams are concurrent by design; HTTP/1.1 requests of a connection take turns.
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => (isHttp2(req) ? handle(req, res) : inTurn(req, res));
  server.on('request', onRequest);
  const expectsContinue = new WeakSet<http.IncomingMessage>();
  const onCheckContinue = (req: http.IncomingMessage, res: http.ServerResponse) => {
    expectsContinue.add(req);
    onRequest(req, res);
  };
  server.on('checkContinue', onCheckContinue);

  /** The route a request would have matched, for counting one that was never served. */
  function routeHostOf(req: http.IncomingMessage): string | null {
    const target = requestTarget(req.url ?? '', hostHeaderValues(req.rawHeaders));
    const pool = target.ok ? store.current.match(target.host, target.path) : undefined;
    return pool ? (pool.host ?? '*') : null;
  }

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    // A handshake pipelined behind requests still being answered takes its turn after them.
    const answering = (socket as { _httpMessage?: http.ServerResponse | null })._httpMessage;
    if (answering && !answering.writableEnded && !socket.destroyed) {
      answering.once('close', () => setImmediate(() => onUpgrade(req, socket, head)));
      return;
    }
    if (req.method !== 'GET' || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
      return rejectUpgrade(socket, 400, 'Only WebSocket upgrades on GET are proxied.');
    }
    // A handshake has no body: bytes after its head belong to the tunnel, never to a second request.
    if (requestFraming(req.headers).kind !== 'none') return rejectUpgrade(socket, 400, 'A WebSocket handshake carries no body.');
    const decision = decide(store.current, factsOf(req), policy);
    if (decision.kind === 'refuse') return rejectUpgrade(socket, decision.status, decision.detail, decision.code);
    if (decision.kind === 'redirect') return rejectUpgrade(socket, 400, 'This route redirects; it takes no WebSocket.');
    const { endpoint, pool } = decision;
    const tunnel = (edits: readonly HeaderEdit[]) => {
      if (socket.destroyed) return;
      // A tunnel counts for least-conn as long as it is open.
      socket.once('close', pool.acquire(endpoint));
      if (req.headers.host === undefined && decision.host !== '') req.headers.host = decision.host;
      req.headers = applyEdits(headersFor(req, endpoint, pool, true, nextRequestId), edits);
      forwarder.ws(req, socket, head, endpoint, upstreamPath(endpoint, decision.target, pool), (error) => {
        const failure = classifyUpstreamError(error);
        observer?.upstreamError(failure.code);
        logger.warn({ code: failure.code, host: req.headers.host, upstream: describe(endpoint), err: error.message }, 'WebSocket upstream failed');
        rejectUpgrade(socket, failure.status, 'The upstream did not accept the WebSocket.');
      });
    };
    const behaviours = pool.behaviours;
    if (!behaviours) return tunnel(NO_EDITS);
    // A WebSocket meets its route's allow list, rate limit and auth like any request.
    const then = (outcome: BehaviourDecision) => {
      if (outcome.kind !== 'continue') return rejectUpgrade(socket, outcome.status, outcome.body, outcome.code, outcome.headers, true);
      const forwardAuth = behaviours.spec.forwardAuth;
      if (!forwardAuth) return tunnel(outcome.requestHeaders);
      void askForwardAuth(forwardAuth, authRequest(req, decision), options.upstreamTimeoutMs).then((asked) => {
        if (asked.kind === 'allow') return tunnel([...outcome.requestHeaders, ...asked.edits]);
        if (asked.kind === 'answer') return rejectUpgrade(socket, asked.status, asked.body.toString('latin1'), Codes.requestAuth, Object.fromEntries(pairs(asked.headers)), true);
        rejectUpgrade(socket, 502, 'The auth service of this route could not be asked.', Codes.authUnreachable);
      }).catch((error: unknown) => logger.error({ code: Codes.internal, err: error }, 'answering after forward auth failed'));
    };
    const verdict = decideBehaviours(pool.behaviours, behaviourFacts(req));
    if (!(verdict instanceof Promise)) return then(verdict);
    verdict.then(then).catch(() => rejectUpgrade(socket, 500, 'The request could not be checked.', Codes.internal));
  };
  server.on('upgrade', onUpgrade);

  // CONNECT would make berth a tunnel to anywhere: refused like TRACE.
  server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    rejectUpgrade(socket, 405, 'berth does not proxy CONNECT requests.');
  });

  const onClientError = (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    if (!socket.writable) return socket.destroy();
    // Bytes after a request that said Connection: close are not a request: its answer still goes out.
    if (error.code === 'HPE_CLOSED_CONNECTION') return;
    // A request whose answer has begun (a refusal of its head, say) gets no second one.
    if ((socket as { _httpMessage?: http.ServerResponse })._httpMessage?.headersSent) return void socket.end();
    socket.end(`${statusLine(clientErrorStatus(error.code, error.rawPacket))}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  server.on('clientError', onClientError);

  const https = options.https
    ? createHttpsListener(
        {
          contextFor: (servername) => options.https!.certificates.contextFor(servername),
          challengeContextFor: (servername) => options.https!.certificates.challengeContextFor(servername),
          fallback: () => options.https!.certificates.fallback(),
          handshakeTimeoutMs: options.headerTimeoutMs,
          headersTimeoutMs: options.headerTimeoutMs,
          requestTimeoutMs: options.requestTimeoutMs,
          keepAliveTimeoutMs: options.idleTimeoutMs,
          maxHeadersCount: MAX_REQUEST_HEADERS + 1,
        },
        { request: onRequest as HttpsHandlers['request'], checkContinue: onCheckContinue as HttpsHandlers['request'], upgrade: onUpgrade, clientError: onClientError as HttpsHandlers['clientError'] },
      )
    : null;
  if (https) countConnections(https.server);

  /** What one request sends, whichever endpoint an attempt goes to. */
  interface Attempt {
    readonly decision: Forward;
    readonly framing: Framing;
    /** Its request id once the first attempt was sent (a retry carries the same). */
    readonly exchange: Exchange;
    /** The route's request header edits, decided once for every attempt. */
    readonly edits: readonly HeaderEdit[];
    /** A body over this many bytes is refused with 413 (chunked bodies are counted as they stream). */
    readonly maxBodyBytes: number | null;
  }

  function forward(req: http.IncomingMessage, res: http.ServerResponse, attempt: Attempt, pool: Pool, endpoint: Endpoint, firstTry: boolean): void {
    const { decision, framing } = attempt;
    attempt.exchange.endpoint = endpoint;
    const path = upstreamPath(endpoint, decision.target, pool);
    const hsts = pool.tls?.hsts && isEncrypted(req) ? pool.tls.hsts : null;
    // A retry must carry the same request id as the first attempt.
    const sentId = attempt.exchange.requestId;
    const headers = applyEdits(headersFor(req, endpoint, pool, false, sentId === null ? nextRequestId : () => sentId), attempt.edits);
    const responseEdits = pool.behaviours ? responseHeaderEdits(pool.behaviours.spec) : NO_EDITS;
    const compress = pool.behaviours?.spec.compress === true;
    // A retry lands elsewhere: the pin moves with it.
    const setCookie = firstTry ? decision.setCookie : pool.sticky ? stickyCookie(pool, endpoint, undefined, isEncrypted(req)) : null;
    const head = { method: req.method ?? 'GET', path, headers, framing, http2: isHttp2(req), hsts, responseEdits, maxBodyBytes: attempt.maxBodyBytes, compress, setCookie };
    attempt.exchange.requestId = head.headers['x-request-id'] as string;
    // least-conn counts what each endpoint is serving; the count ends with the response.
    const release = pool.acquire(endpoint);
    // `on`, not `once`: a release is idempotent, and the response closes once.
    res.on('close', release);
    forwarder.web(req, res, endpoint, head, (error) => {
      release();
      const failure = classifyUpstreamError(error);
      observer?.upstreamError(failure.code);
      if (firstTry && !res.headersSent && !res.destroyed && mayRetry(head.method, framing.kind !== 'none', failure)) {
        // The table may have moved on since the request arrived (a replica just left): ask the latest.
        const found = store.current.match(decision.host, decision.matchPath);
        // Only the same route, under the same checks: a route added meanwhile was never checked for this request.
        const latest = found && found.key === pool.key && sameBehaviours(found, pool) ? found : undefined;
        const next = latest?.redirect ? undefined : latest?.pick(endpoint);
        if (latest && next && next.key !== endpoint.key) {
          observer?.retry();
          logger.debug({ code: failure.code, upstream: describe(endpoint), retry: describe(next) }, 'retrying on another endpoint');
          return forward(req, res, attempt, latest, next, false);
        }
      }
      logger.warn({ code: failure.code, host: req.headers.host, path, upstream: describe(endpoint), err: error.message }, 'upstream request failed');
      if (res.headersSent) res.destroy();
      else sendError(res, failure.status, failure.status === 504 ? 'The upstream did not answer in time.' : 'The upstream could not be reached.', failure.code);
    });
  }

  function headersFor(req: http.IncomingMessage, endpoint: Endpoint, pool: Pool, upgrade: boolean, newId: () => string): http.IncomingHttpHeaders {
    const headers = upstreamRequestHeaders(req.headers, clientFactsOf(req, upgrade), { keepUnderscores: options.keepUnderscoreHeaders, strippedPrefix: strippedPrefix(endpoint, pool) }, newId);
    if (endpoint.upstreamHost) headers.host = authorityOf(endpoint);
    return headers;
  }

  https?.server.on('listening', () => {
    const address = https.server.address();
    if (address && typeof address === 'object' && options.https?.port === 0) policy.httpsPort = address.port;
  });

  return {
    server,
    httpsServer: https?.server ?? null,
    async shutdown(graceMs) {
      const closed = [new Promise<void>((resolve) => server.close(() => resolve()))];
      if (https) {
        closed.push(new Promise<void>((resolve) => https.server.close(() => resolve())));
        https.close();
        https.closeIdleConnections();
      }
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        server.closeAllConnections();
        https?.closeAllConnections();
      }, graceMs);
      await Promise.all(closed);
      clearTimeout(timer);
      forwarder.close();
      closeForwardAuthAgents();
    },
  };
}

type Forward = Extract<Decision, { kind: 'forward' }>;

function sameBehaviours(a: Pool, b: Pool): boolean {
  return a.behaviours === b.behaviours || (a.behaviours !== null && b.behaviours !== null && canonicalJson(a.behaviours.spec) === canonicalJson(b.behaviours.spec));
}

/** The Host an outside site expects: its name, and its port unless the scheme's default. */
function authorityOf(endpoint: Endpoint): string {
  const host = bracketed(endpoint.address);
  const defaultPort = endpoint.scheme === 'https' ? 443 : 80;
  return endpoint.port === defaultPort ? host : `${host}:${endpoint.port}`;
}

function describe(endpoint: Endpoint): string {
  return `${endpoint.container?.name ?? ''}@${endpoint.address}:${endpoint.port}`;
}
