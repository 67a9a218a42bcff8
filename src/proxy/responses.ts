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

export function rejectUpgrade(socket: Duplex, status: number, detail: string, code?: string): void {
  if (!socket.writable) return void socket.destroy();
  const body = errorPage(status, detail, code);
  const extra = status === 405 ? `Allow: ${ALLOWED_METHODS}\r\n` : status === 503 ? `Retry-After: ${RETRY_AFTER_SECONDS}\r\n` : '';
  socket.end(`${statusLine(status)}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`);
}
