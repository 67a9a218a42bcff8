// The routing decision for one request, as a function of the request's facts and the current
// table: forward to an endpoint, answer with a redirect, or refuse with a status and a code.
import { Codes } from '../errors.js';
import { stripPathPrefix } from '../routes/path.js';
import type { Pool, RouteTable } from '../routes/table.js';
import type { Endpoint } from '../routes/types.js';
import { bracketed } from '../util/ip.js';
import { notFoundDetail } from './pages.js';
import { stickyCookie, stickyIdFor } from './sticky.js';
import { forbiddenEncoding, requestTarget, type EncodedChar } from './target.js';

/** More header lines than this and a request is refused (HAProxy keeps 101): never cut short. */
export const MAX_REQUEST_HEADERS = 100;

// TRACE echoes credentials back (cross-site tracing); CONNECT would make berth a tunnel.
const REFUSED_METHODS = new Set(['TRACE', 'CONNECT']);
export const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** What routing reads of a request, as the parser gave it. */
export interface RequestFacts {
  readonly method: string;
  readonly url: string;
  /** Every Host header value, in order. */
  readonly hostHeaders: readonly string[];
  /** Header lines as received (rawHeaders.length / 2). */
  readonly headerCount: number;
  readonly transferEncoding: string | undefined;
  /** Whether it came over TLS. */
  readonly encrypted: boolean;
  /** The Cookie header(s), read only on sticky routes (`berth_sticky`). */
  readonly cookie?: string | readonly string[];
}

export interface RoutingPolicy {
  /** Encoded characters a path may hold on routes that say nothing of their own. */
  readonly allowEncoded: ReadonlySet<EncodedChar>;
  /** Where plain requests to HTTPS routes are sent; null: HTTPS is off, so they are served. */
  readonly httpsPort: number | null;
}

export type Decision =
  | {
      readonly kind: 'forward';
      readonly pool: Pool;
      readonly endpoint: Endpoint;
      /** What the route was matched on, to match again in a newer table for a retry. */
      readonly host: string;
      readonly matchPath: string;
      /** The path and query as routed, before the endpoint's own rewrite. */
      readonly target: string;
      /** A Set-Cookie to add to the response: the route is sticky and the client is (re)pinned. */
      readonly setCookie: string | null;
    }
  | { readonly kind: 'redirect'; readonly pool: Pool; readonly location: string; readonly code: number }
  | { readonly kind: 'refuse'; readonly status: number; readonly code: string; readonly detail: string; readonly pool?: Pool };

const refuse = (status: number, code: string, detail: string, pool?: Pool): Decision => ({ kind: 'refuse', status, code, detail, ...(pool ? { pool } : {}) });

export function decide(table: RouteTable, request: RequestFacts, policy: RoutingPolicy): Decision {
  if (REFUSED_METHODS.has(request.method)) return refuse(405, Codes.requestMethod, `berth does not proxy ${request.method} requests.`);
  if (request.headerCount > MAX_REQUEST_HEADERS) return refuse(431, Codes.requestHeaders, `The request has more than ${MAX_REQUEST_HEADERS} header lines.`);
  if (request.transferEncoding !== undefined) {
    const codings = request.transferEncoding.toLowerCase().split(',').map((coding) => coding.trim());
    // Without chunked last the body's end cannot be known (RFC 9112 6.3); other codings berth cannot re-frame.
    if (codings.at(-1) !== 'chunked') return refuse(400, Codes.requestFraming, 'The request has a Transfer-Encoding that does not end in chunked.');
    if (codings.length > 1) return refuse(501, Codes.requestFraming, 'Only the chunked transfer coding is supported.');
  }
  const target = requestTarget(request.url, request.hostHeaders);
  if (!target.ok) return refuse(target.status, target.code, target.detail);
  const { host, path, query } = target;
  const pool = table.match(host, path);
  if (!pool) return refuse(404, Codes.noRoute, notFoundDetail(host));
  if (pool.tls?.redirect && !request.encrypted && policy.httpsPort !== null && host !== '') {
    const port = policy.httpsPort === 443 ? '' : `:${policy.httpsPort}`;
    return { kind: 'redirect', pool, location: `https://${bracketed(host)}${port}${path}${query}`, code: 308 };
  }
  if (pool.redirect) {
    const { location, code, stripPrefix } = pool.redirect;
    const routed = path + query;
    return { kind: 'redirect', pool, location: location + (stripPrefix ? stripPathPrefix(routed, pool.path) : routed), code };
  }
  const stickyId = pool.sticky ? stickyIdFor(pool, request.cookie) : undefined;
  const endpoint = pool.pick(undefined, stickyId);
  if (!endpoint) return refuse(503, Codes.noEndpoint, `No ready endpoint serves ${host}${pool.path} right now.`, pool);
  const encoded = forbiddenEncoding(path, endpoint.allowEncoded ? new Set(endpoint.allowEncoded) : policy.allowEncoded);
  if (encoded) return refuse(400, Codes.requestEncoded, `The path holds an encoded ${encoded}, which this route does not allow.`, pool);
  const setCookie = pool.sticky ? stickyCookie(pool, endpoint, stickyId, request.encrypted) : null;
  return { kind: 'forward', pool, endpoint, host, matchPath: path, target: path + query, setCookie };
}

/** The path the endpoint receives: its own base path, then the routed target, prefix stripped if asked. */
export function upstreamPath(endpoint: Endpoint, target: string, pool: Pool): string {
  return (endpoint.basePath ?? '') + (endpoint.stripPrefix ? stripPathPrefix(target, pool.path) : target);
}

/** The prefix an upstream should put back in front of its own links, when one was stripped. */
export function strippedPrefix(endpoint: Endpoint, pool: Pool): string | null {
  return endpoint.stripPrefix && pool.path !== '/' ? pool.path : null;
}
