// What berth reads of a request before deciding on it, over HTTP/1.1 and HTTP/2 alike. Pure
// functions of the parsed request.
import type http from 'node:http';
import type { Framing } from './headers.js';
import type { RequestFacts } from './route.js';
import { hostHeaderValues } from './target.js';

export function factsOf(req: http.IncomingMessage): RequestFacts {
  return {
    method: req.method ?? '',
    url: req.url ?? '',
    hostHeaders: isHttp2(req) ? http2HostValues(req) : hostHeaderValues(req.rawHeaders),
    headerCount: req.rawHeaders.length / 2,
    transferEncoding: req.headers['transfer-encoding'],
    encrypted: isEncrypted(req),
    cookie: req.headers.cookie,
  };
}

export function isHttp2(req: http.IncomingMessage): boolean {
  return req.httpVersionMajor === 2;
}

export function isEncrypted(req: http.IncomingMessage): boolean {
  return isHttp2(req) || (req.socket as { encrypted?: boolean }).encrypted === true;
}

/** HTTP/2 names the host in :authority; a Host header beside it must agree (RFC 9113 8.3.1). */
export function http2HostValues(req: http.IncomingMessage): string[] {
  const hosts = hostHeaderValues(req.rawHeaders);
  const authority = authorityOf2(req);
  if (authority === undefined) return hosts;
  return hosts.length === 0 || (hosts.length === 1 && hosts[0] === authority) ? [authority] : [authority, ...hosts];
}

export function authorityOf2(req: http.IncomingMessage): string | undefined {
  const authority = req.headers[':authority'];
  return typeof authority === 'string' ? authority : undefined;
}

/** HTTP/2 frames bodies itself: a length when one is given, else chunked unless the stream ended with its headers. */
export function http2Framing(req: http.IncomingMessage): Framing {
  const length = req.headers['content-length'];
  if (length !== undefined) return length === '0' ? { kind: 'none' } : { kind: 'length', length };
  const stream = (req as unknown as { stream?: { endAfterHeaders?: boolean } }).stream;
  return stream?.endAfterHeaders ? { kind: 'none' } : { kind: 'chunked' };
}

