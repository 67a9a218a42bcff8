// Request and response headers across the proxy hop. Pure functions of plain header maps.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { nextRequestId } from '../util/request-id.js';

// Hop-by-hop: meaningful for one connection only (RFC 9110 7.6.1).
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization'];
const HOP_BY_HOP_SET = new Set(HOP_BY_HOP);
// Set by berth on every request (from the client's values only when it is trusted).
const OWN = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip', 'x-request-id', 'x-forwarded-prefix']);
// Other spellings of "who the client is and how it came in", and path overrides (X-Original-URL),
// that apps and frameworks believe: only a trusted proxy may send them. Every X-Forwarded-* and
// X-Original-* is such a header too (Traefik's -Uri, oauth2-proxy's -User, Envoy's -Client-Cert).
const TRUSTED_ONLY = new Set(['forwarded', 'x-url-scheme', 'front-end-https', 'x-rewrite-url', 'true-client-ip', 'x-client-ip', 'client-ip', 'cf-connecting-ip', 'x-cluster-client-ip', 'x-host']);
const TRUSTED_ONLY_PREFIXES = ['x-forwarded-', 'x-original-'];
// Framing is berth's to decide (see framingHeaders); Expect was answered by berth itself.
const FRAMING = new Set(['content-length', 'transfer-encoding', 'expect']);
const REQUEST_ID = /^[\w.:@=+/-]{1,200}$/;
// A Connection header may not remove what routing and message framing depend on.
const PROTECTED = new Set(['host', 'content-length', 'transfer-encoding']);

export interface ClientFacts {
  readonly remoteAddress: string;
  /** Whether the client is a trusted proxy whose X-Forwarded-* may be kept. */
  readonly trusted: boolean;
  /** The port the client connected to. */
  readonly localPort: number;
  readonly encrypted: boolean;
  /** Keep `Connection: upgrade` and `Upgrade` (WebSocket handshakes). */
  readonly upgrade: boolean;
}

export interface HeaderPolicy {
  /** Keep header names with `_`: CGI-style servers map them onto berth's own (X_Forwarded_For). */
  readonly keepUnderscores: boolean;
  /** The path prefix berth stripped, sent as X-Forwarded-Prefix; null when none was. */
  readonly strippedPrefix: string | null;
}

const DEFAULT_POLICY: HeaderPolicy = { keepUnderscores: false, strippedPrefix: null };

/** The headers to send upstream: hop-by-hop and framing removed, X-Forwarded-* and X-Request-Id set. */
export function upstreamRequestHeaders(
  headers: IncomingHttpHeaders,
  client: ClientFacts,
  policy: HeaderPolicy = DEFAULT_POLICY,
  newId: () => string = nextRequestId,
): IncomingHttpHeaders {
  // Copy what passes rather than copy-then-delete: deleting makes every later lookup slower.
  const named = connectionNamed(headers['connection']);
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    const kind = kindOf(name);
    if (kind === DROPPED) continue;
    if (named !== null && named.has(name) && !PROTECTED.has(name)) continue;
    if ((kind & TRUSTED) !== 0 && !client.trusted) continue;
    if ((kind & UNDERSCORED) !== 0 && !policy.keepUnderscores) continue;
    out[name] = headers[name];
  }
  if (client.upgrade) {
    out['connection'] = 'upgrade';
    out['upgrade'] = headers['upgrade'];
  }
  const forwardedFor = client.trusted ? headers['x-forwarded-for'] : undefined;
  out['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${client.remoteAddress}` : client.remoteAddress;
  const proto = client.encrypted ? 'https' : 'http';
  out['x-forwarded-proto'] = client.trusted ? (headers['x-forwarded-proto'] ?? proto) : proto;
  out['x-forwarded-host'] = client.trusted ? (headers['x-forwarded-host'] ?? headers.host ?? '') : (headers.host ?? '');
  out['x-forwarded-port'] = client.trusted ? (headers['x-forwarded-port'] ?? String(client.localPort)) : String(client.localPort);
  out['x-real-ip'] = client.trusted ? (headers['x-real-ip'] ?? client.remoteAddress) : client.remoteAddress;
  const prefix = client.trusted ? (headers['x-forwarded-prefix'] ?? '') + (policy.strippedPrefix ?? '') : policy.strippedPrefix;
  if (prefix) out['x-forwarded-prefix'] = prefix;
  const id = headers['x-request-id'];
  out['x-request-id'] = typeof id === 'string' && REQUEST_ID.test(id) ? id : newId();
  return out;
}

// What a header name is to the hop, whoever sends it: the same names come on every request, so
// the answer is remembered (up to a bound, so that a client inventing names cannot grow it).
// Flags: dropped always; or kept only from trusted proxies, and/or only with keepUnderscores.
const PASSED = 0;
const DROPPED = 1;
const TRUSTED = 2;
const UNDERSCORED = 4;
type Kind = number;
const KINDS = new Map<string, Kind>();
const MAX_KINDS = 512;

function kindOf(name: string): Kind {
  let kind = KINDS.get(name);
  if (kind === undefined) {
    kind = classify(name);
    if (KINDS.size < MAX_KINDS) KINDS.set(name, kind);
  }
  return kind;
}

function classify(name: string): Kind {
  // HTTP/2 pseudo-headers (:method, :authority...) are the request line, not headers.
  if (HOP_BY_HOP_SET.has(name) || OWN.has(name) || FRAMING.has(name) || name.charCodeAt(0) === 0x3a) return DROPPED;
  // httpoxy: CGI turns `Proxy:` into HTTP_PROXY; no Proxy-* header is end-to-end.
  if (name.startsWith('proxy') && (name.length === 5 || name.charCodeAt(5) === 0x2d)) return DROPPED;
  const trusted = TRUSTED_ONLY.has(name) || TRUSTED_ONLY_PREFIXES.some((prefix) => name.startsWith(prefix)) ? TRUSTED : PASSED;
  return trusted | (name.includes('_') ? UNDERSCORED : PASSED);
}

/** How berth frames a request body upstream; decided once from what the parser accepted. */
export type Framing = { readonly kind: 'length'; readonly length: string } | { readonly kind: 'chunked' } | { readonly kind: 'none' };

// Methods Node's client would otherwise frame as chunked when no length is given.
const BODY_BY_DEFAULT = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The framing of a request as Node's parser read it: chunked when it had a Transfer-Encoding
 * (the parser accepts only codings ending in chunked), a length when it had a Content-Length,
 * none otherwise. Every method gets the same rule.
 */
export function requestFraming(headers: IncomingHttpHeaders): Framing {
  if (headers['transfer-encoding'] !== undefined) return { kind: 'chunked' };
  const length = headers['content-length'];
  if (length !== undefined && length !== '0') return { kind: 'length', length };
  return { kind: 'none' };
}

/** The header lines that frame the body as decided; a bodiless request states a zero length where Node would add chunked. */
export function framingHeaders(framing: Framing, method: string): readonly string[] {
  if (framing.kind === 'chunked') return ['transfer-encoding', 'chunked'];
  if (framing.kind === 'length') return ['content-length', framing.length];
  return BODY_BY_DEFAULT.has(method) ? ['content-length', '0'] : [];
}

/** Removes hop-by-hop headers, including those the Connection header names, in place. */
export function removeHopByHop(headers: IncomingHttpHeaders | OutgoingHttpHeaders): void {
  const named = connectionNamed(headers['connection']);
  if (named !== null) for (const name of named) if (!PROTECTED.has(name)) delete headers[name];
  for (const header of HOP_BY_HOP) if (header in headers) delete headers[header];
}

/** The header names a Connection header lists, lowercased; null when there is none. */
function connectionNamed(connection: string | string[] | number | undefined): Set<string> | null {
  if (connection === undefined) return null;
  const names = new Set<string>();
  for (const part of String(connection).split(',')) {
    const name = part.trim().toLowerCase();
    if (name !== '') names.add(name);
  }
  return names;
}
