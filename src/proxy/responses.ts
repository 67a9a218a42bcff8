// The answers berth gives itself: error pages, redirects, refused upgrades and parser errors.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { errorPage, statusTitle } from './pages.js';
import { ALLOWED_METHODS } from './route.js';
import { MAX_TARGET_LENGTH } from './target.js';

/** Seconds a client is asked to wait when no endpoint is ready (a replica is usually starting). */
const RETRY_AFTER_SECONDS = '5';

export function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${statusTitle(status)}`;
}

/** What to answer a request Node's parser refused; a request line alone over the limit is a 414. */
export function clientErrorStatus(code: string | undefined, rawPacket: Buffer | undefined): number {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (code !== 'HPE_HEADER_OVERFLOW') return 400;
  const lineEnd = rawPacket?.indexOf(0x0a) ?? -1;
  return lineEnd === -1 || lineEnd > MAX_TARGET_LENGTH ? 414 : 431;
}

export function sendRedirect(res: http.ServerResponse, code: number, location: string): void {
  const body = errorPage(code, `Moved to ${location}`);
  res.writeHead(code, { location, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendError(res: http.ServerResponse, status: number, detail: string, code?: string, extra: http.OutgoingHttpHeaders = {}): void {
  if (res.writableEnded || res.destroyed) return;
  const body = errorPage(status, detail, code);
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra });
  res.end(body);
}

/**
 * The answer to a request berth will not forward; one it could not read safely also ends its
 * HTTP/1.1 connection (HTTP/2 has no Connection header: its stream ends alone).
 */
export function sendRefusal(res: http.ServerResponse, status: number, detail: string, code: string, http2 = false): void {
  const headers: http.OutgoingHttpHeaders = {};
  if (status === 503) headers['retry-after'] = RETRY_AFTER_SECONDS;
  if (status === 405) headers['allow'] = ALLOWED_METHODS;
  if (!http2 && status !== 404 && status !== 503) headers['connection'] = 'close';
  sendError(res, status, detail, code, headers);
}

/** A route's own answer (401, 403, 429, 413, 503): its page and headers, the connection closed after a 413 (its body went unread). */
export function sendAnswer(res: http.ServerResponse, answer: { status: number; headers: Readonly<Record<string, string>>; body: string }, http2 = false): void {
  if (res.writableEnded || res.destroyed) return;
  const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(answer.body), 'cache-control': 'no-store', ...answer.headers };
  if (answer.status === 413 && !http2) headers['connection'] = 'close';
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

/**
 * An upgrade berth will not make, answered on the raw socket. `detail` is plain text for berth's
 * page, or with `isPage` a whole page already made (a route's own answer).
 */
/** Another server's answer relayed whole (a route's auth service refusing a request). */
export function relayAnswer(res: http.ServerResponse, status: number, headers: readonly string[], body: Buffer): void {
  if (res.writableEnded || res.destroyed) return;
  try {
    res.writeHead(status, [...headers, 'content-length', String(body.length)]);
  } catch {
    return sendError(res, 502, 'The auth service answered what berth cannot relay.');
  }
  res.end(body);
}

export function rejectUpgrade(socket: Duplex, status: number, detail: string, code?: string, headers: Readonly<Record<string, string>> = {}, isPage = false): void {
  if (!socket.writable) return void socket.destroy();
  const body = isPage ? detail : errorPage(status, detail, code);
  let extra = status === 405 ? `Allow: ${ALLOWED_METHODS}\r\n` : status === 503 ? `Retry-After: ${RETRY_AFTER_SECONDS}\r\n` : '';
  for (const [name, value] of Object.entries(headers)) extra += `${name}: ${value}\r\n`;
  socket.end(`${statusLine(status)}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`);
}
