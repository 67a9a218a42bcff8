// Plain data shared by providers, the table and the servers: no behaviour lives here.
import type { BehaviourSpec } from '../behaviours/spec.js';

export type Scheme = 'http' | 'https';

/** One place a request can be sent: a container's address or a URL from the routes file. */
export interface Endpoint {
  /** Stable identity, used for ordering and diffs (container id + port, or a URL). */
  readonly key: string;
  readonly scheme: Scheme;
  /** IP address or hostname, without brackets. */
  readonly address: string;
  readonly port: number;
  /** Whether new requests may be sent here. */
  readonly ready: boolean;
  /** Why the endpoint is not ready (absent when ready). */
  readonly notReadyReason?: string;
  /** Remove the route's path prefix before forwarding. */
  readonly stripPrefix: boolean;
  /** The container that serves it, when it comes from Docker. */
  readonly container?: { readonly id: string; readonly name: string };
  /** Where a person declared it, when not a container: `routes.yml:12`. */
  readonly origin?: string;
  /** Path prepended to every forwarded path (`to: http://host/base`); '' for none. */
  readonly basePath?: string;
  /** Send the upstream's own host as the Host header (outside sites), not the client's. */
  readonly upstreamHost?: boolean;
  /** Verify the upstream's TLS certificate (outside sites); containers' are not verified. */
  readonly verifyTls?: boolean;
  /** Encoded characters (`%2F`...) this route's paths may hold; absent: the global setting. */
  readonly allowEncoded?: ReadonlyArray<'slash' | 'backslash' | 'nul'>;
  /** PEM of the CA(s) to verify an https upstream with, instead of Node's bundled roots. */
  readonly ca?: string;
}

/** A route that answers with a redirect instead of forwarding. */
export interface Redirect {
  /** Scheme, host and optional path; the request path and query are appended. */
  readonly location: string;
  readonly code: 301 | 302 | 307 | 308;
  readonly stripPrefix: boolean;
  readonly origin: string;
}

/** A route served over HTTPS: what plain HTTP gets, and what HTTPS answers carry. */
export interface RouteTls {
  /** Plain HTTP requests get a 308 to https:// (else both are served). */
  readonly redirect: boolean;
  /** The Strict-Transport-Security value for HTTPS answers, or null. */
  readonly hsts: string | null;
  /** Asked for by the route itself, not by --tls-default: a certificate is ordered whatever the name. */
  readonly explicit: boolean;
}

interface RouteSpecBase {
  /** Lowercase hostname, `*.example.com` for a wildcard, or null for any host. */
  readonly host: string | null;
  /** Path prefix starting with `/`, without a trailing slash unless it is `/`. */
  readonly path: string;
  /** Which provider produced it: `docker`, `file`, ... */
  readonly source: string;
  /** Set for an HTTPS route. */
  readonly tls?: RouteTls;
  /** Per-route behaviours (allow, rate limit, auth, headers, body limit); plain data. */
  readonly behaviours?: BehaviourSpec;
}

export type ForwardSpec = RouteSpecBase & { readonly endpoint: Endpoint; readonly redirect?: undefined };
export type RedirectSpec = RouteSpecBase & { readonly redirect: Redirect; readonly endpoint?: undefined };

/** What a provider says: "this host and path go to this endpoint" (or "redirect there"). */
export type RouteSpec = ForwardSpec | RedirectSpec;

/** Something wrong with one input item, kept visible instead of thrown. */
export interface Problem {
  /** Stable code, e.g. BERTH_E_LABEL_PORT. */
  readonly code: string;
  readonly message: string;
  /** The label or setting at fault, when there is one. */
  readonly label?: string;
  /** What the user can do about it. */
  readonly fix?: string;
  /** Position in a file, 1-based, when the parser gives one. */
  readonly line?: number;
  readonly column?: number;
  /** Where it comes from when a source holds many: a container or service name, a store key. */
  readonly item?: string;
}
