// Sends one request upstream with exactly the head berth decided, and relays the response.
// Node's client is given the head as a header array, so it adds nothing (no Host, no framing
// of its own) and nothing re-parses the path; the body is streamed only when berth framed one.
import http from 'node:http';
import https from 'node:https';
import type { Endpoint } from '../routes/types.js';
import { bodyTooLarge } from '../behaviours/pipeline.js';
import type { HeaderEdit } from '../behaviours/spec.js';
import type { Duplex } from 'node:stream';
import { framingHeaders, type Framing } from './headers.js';
import { chooseEncoding, compressor, type Encoding } from './compression.js';
import { sendAnswer } from './responses.js';
import { timeoutError, type Agents, type Deadlines } from './upstream-agents.js';
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
  /** The route's response header edits: a value sets, null removes. */
  readonly responseEdits?: readonly HeaderEdit[];
  /** A streamed body over this many bytes is cut off with 413 (the route's max-body); null for none. */
  readonly maxBodyBytes?: number | null;
  /** The route compresses text-like responses (the client's Accept-Encoding decides which coding). */
  readonly compress?: boolean;
  /** A Set-Cookie of berth's own (a sticky route's pin), after the upstream's. */
  readonly setCookie?: string | null;
}

// Hop-by-hop response headers (RFC 9110 7.6.1), transfer-encoding (berth frames its own response),
// and HTTP2-Settings: none may reach an HTTP/2 client (RFC 9113 8.2.2), nor means anything to others.
const RESPONSE_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'transfer-encoding', 'http2-settings']);

/** One attempt's deadlines, for a request outside the pools (a WebSocket handshake): the connect (Node's own timer starts only once connected), then each silence. */
export function applyDeadlines(upstream: http.ClientRequest, { connectMs, idleMs }: Deadlines): void {
  upstream.once('socket', (socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => upstream.destroy(timeoutError(CONNECT_TIMEOUT, 'upstream did not accept the connection in time')), connectMs);
    socket.once('connect', () => clearTimeout(timer));
    upstream.once('close', () => clearTimeout(timer));
  });
  upstream.setTimeout(idleMs, () => upstream.destroy(timeoutError(UPSTREAM_TIMEOUT, 'upstream timed out')));
}

/** What one attempt knows, kept on its objects so that their listeners are shared functions, not closures. */
class Attempt {
  failed = false;
  abandoned = false;
  answered = false;
  upstream: http.ClientRequest | null = null;
  constructor(
    readonly req: http.IncomingMessage,
    readonly res: http.ServerResponse,
    readonly head: UpstreamHead,
    readonly onError: (error: Error) => void,
  ) {}

  fail(error: Error): void {
    // A failure that follows the client's leaving is berth's own abort, not the upstream's fault.
    if (this.failed || this.abandoned) return;
    this.failed = true;
    this.onError(error);
  }

  abandon(): void {
    this.abandoned = true;
    this.upstream?.destroy();
  }
}

const ATTEMPT = Symbol('berth.attempt');
type Carrying = { [ATTEMPT]?: Attempt };
const attemptOf = (emitter: object): Attempt => (emitter as Carrying)[ATTEMPT]!;

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
  options: { readonly agents: Agents; readonly tls: https.RequestOptions },
  onError: (error: Error) => void,
): void {
  const attempt = new Attempt(req, res, head, onError);
  const secure = endpoint.scheme === 'https';
  let upstream: http.ClientRequest;
  try {
    // The pooled sockets carry the connect and idle deadlines (upstream-agents.ts).
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
    return attempt.fail(error as Error);
  }
  attempt.upstream = upstream;
  (upstream as Carrying)[ATTEMPT] = attempt;
  upstream.on('error', onUpstreamError);
  upstream.on('upgrade', onUnaskedUpgrade);
  upstream.on('close', onUpstreamClose);
  upstream.on('response', onResponse);
  // A retry on the same client response: the listeners already there now tell the new attempt.
  const first = (res as Carrying)[ATTEMPT] === undefined;
  (res as Carrying)[ATTEMPT] = attempt;
  (req as Carrying)[ATTEMPT] = attempt;
  if (first) {
    res.on('close', onClientClose);
    req.on('error', onClientError);
  }

  if (head.framing.kind === 'none') return void upstream.end();
  if (head.maxBodyBytes != null) limitBody(req, res, upstream, head.maxBodyBytes, () => (attempt.abandoned = true));
  req.pipe(upstream);
}

function onUpstreamError(this: http.ClientRequest, error: Error): void {
  const attempt = attemptOf(this);
  if (attempt.res.headersSent) attempt.res.destroy();
  else attempt.fail(error);
}

/** A 101 berth did not ask for: Node would drop the socket without a word, leaving the client waiting. */
function onUnaskedUpgrade(this: http.ClientRequest, _answer: http.IncomingMessage, socket: Duplex): void {
  socket.destroy();
  attemptOf(this).fail(Object.assign(new Error('the upstream switched protocols on a plain request'), { code: UNASKED_UPGRADE }));
}

/** Whatever else ends the request before an answer, the client hears of it. */
function onUpstreamClose(this: http.ClientRequest): void {
  const attempt = attemptOf(this);
  if (!attempt.answered) attempt.fail(Object.assign(new Error('the upstream closed before answering'), { code: 'ECONNRESET' }));
}

/** A client that leaves takes its upstream request with it. */
function onClientClose(this: http.ServerResponse): void {
  if (!this.writableFinished) attemptOf(this).abandon();
}

function onClientError(this: http.IncomingMessage): void {
  attemptOf(this).abandon();
}

/** A response cut short upstream must be cut short for the client too, not left hanging. */
function onAnswerClose(this: http.IncomingMessage): void {
  if (!this.complete) attemptOf(this).res.destroy();
}

function onResponse(this: http.ClientRequest, answer: http.IncomingMessage): void {
  const attempt = attemptOf(this);
  const { req, res, head } = attempt;
  attempt.answered = true;
  (answer as Carrying)[ATTEMPT] = attempt;
  answer.on('close', onAnswerClose);
  const status = answer.statusCode ?? 502;
  let lines = editedLines(responseHeaderLines(answer.rawHeaders), head.responseEdits ?? []);
  const encoding = head.compress ? encodingFor(req, head.method, status, answer) : null;
  if (encoding) lines = compressedLines(lines, encoding);
  if (head.hsts) lines.push('strict-transport-security', head.hsts);
  if (head.setCookie) lines.push('set-cookie', head.setCookie);
  try {
    if (head.http2) res.writeHead(status, lines);
    else res.writeHead(status, answer.statusMessage, lines);
  } catch (error) {
    // A status text or header value Node will not write: nothing reached the client yet.
    answer.resume();
    this.destroy();
    return attempt.fail(error as Error);
  }
  if (!encoding) return void answer.pipe(res);
  const length = answer.headers['content-length'];
  const zip = compressor(encoding, length === undefined ? null : Number(length));
  zip.on('error', () => res.destroy());
  answer.pipe(zip).pipe(res);
}

/** Counts a streamed body against the route's limit: past it, the upstream request ends and the client gets 413. */
function limitBody(req: http.IncomingMessage, res: http.ServerResponse, upstream: http.ClientRequest, limit: number, abandon: () => void): void {
  let seen = 0;
  const count = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen <= limit) return;
    req.off('data', count);
    req.unpipe(upstream);
    abandon();
    upstream.destroy();
    if (res.headersSent) res.destroy();
    else sendAnswer(res, bodyTooLarge(limit), res.req?.httpVersionMajor === 2);
  };
  req.on('data', count);
}

function encodingFor(req: http.IncomingMessage, method: string, status: number, answer: http.IncomingMessage): Encoding | null {
  const one = (name: string) => {
    const value = answer.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  const accept = req.headers['accept-encoding'];
  return chooseEncoding(Array.isArray(accept) ? accept.join(',') : accept, method, status, {
    contentType: one('content-type'),
    contentEncoding: one('content-encoding'),
    contentLength: one('content-length'),
    contentRange: one('content-range'),
    cacheControl: one('cache-control'),
  });
}

/** The length changes with the coding; caches must keep codings apart. */
function compressedLines(lines: string[], encoding: Encoding): string[] {
  const kept: string[] = [];
  let vary: string | null = null;
  for (let i = 0; i < lines.length; i += 2) {
    const lower = lines[i]!.toLowerCase();
    if (lower === 'content-length') continue;
    // The coded body is not byte-identical to the original: its validator can only be weak.
    if (lower === 'etag') kept.push(lines[i]!, lines[i + 1]!.startsWith('W/') ? lines[i + 1]! : `W/${lines[i + 1]}`);
    else if (lower === 'vary') vary = vary ? `${vary}, ${lines[i + 1]}` : lines[i + 1]!;
    else kept.push(lines[i]!, lines[i + 1]!);
  }
  kept.push('content-encoding', encoding, 'vary', vary && !/accept-encoding|\*/i.test(vary) ? `${vary}, Accept-Encoding` : (vary ?? 'Accept-Encoding'));
  return kept;
}

/** Response header lines with the route's edits: every line of an edited name goes, a value is added back. */
export function editedLines(lines: string[], edits: readonly HeaderEdit[]): string[] {
  if (edits.length === 0) return lines;
  const edited = new Set(edits.map(([name]) => name.toLowerCase()));
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i += 2) if (!edited.has(lines[i]!.toLowerCase())) kept.push(lines[i]!, lines[i + 1]!);
  for (const [name, value] of edits) if (value !== null) kept.push(name, value);
  return kept;
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
