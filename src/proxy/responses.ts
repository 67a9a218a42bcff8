// The answers berth gives itself: error pages, redirects, refused upgrades and parser errors.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { errorPage, statusTitle } from './pages.js';
import { MAX_TARGET_LENGTH } from './target.js';

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

export function sendError(res: http.ServerResponse, status: number, detail: string): void {
  if (res.writableEnded) return;
  const body = errorPage(status, detail);
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

export function rejectUpgrade(socket: Duplex, status: number, detail: string): void {
  if (!socket.writable) return void socket.destroy();
  const body = errorPage(status, detail);
  socket.end(`${statusLine(status)}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
