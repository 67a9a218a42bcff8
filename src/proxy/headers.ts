// Request and response headers across the proxy hop. Pure functions of plain header maps.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

// Hop-by-hop: meaningful for one connection only (RFC 9110 7.6.1).
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization'];
const HOP_BY_HOP_SET = new Set(HOP_BY_HOP);
// Set by berth on every request (from the client's values only when it is trusted).
const OWN = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip', 'x-request-id']);
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

/** The headers to send upstream: hop-by-hop removed, X-Forwarded-* and X-Request-Id set. */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, client: ClientFacts, newId: () => string = randomUUID): IncomingHttpHeaders {
  // Copy what passes rather than copy-then-delete: deleting makes every later lookup slower.
  const named = connectionNamed(headers['connection']);
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (HOP_BY_HOP_SET.has(name) || OWN.has(name) || (named !== null && named.has(name) && !PROTECTED.has(name))) continue;
    if (name === 'forwarded' && !client.trusted) continue;
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
  const id = headers['x-request-id'];
  out['x-request-id'] = typeof id === 'string' && REQUEST_ID.test(id) ? id : newId();
  return out;
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
