// Plain data shared by providers, the table and the servers: no behaviour lives here.

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
}

/** What a provider says: "this host and path go to this endpoint". */
export interface RouteSpec {
  /** Lowercase hostname, `*.example.com` for a wildcard, or null for any host. */
  readonly host: string | null;
  /** Path prefix starting with `/`, without a trailing slash unless it is `/`. */
  readonly path: string;
  readonly endpoint: Endpoint;
  /** Which provider produced it: `docker`, `file`, ... */
  readonly source: string;
}

/** Something wrong with one input item, kept visible instead of thrown. */
export interface Problem {
  /** Stable code, e.g. BERTH_E_LABEL_PORT. */
  readonly code: string;
  readonly message: string;
  /** The label or setting at fault, when there is one. */
  readonly label?: string;
  /** What the user can do about it. */
  readonly fix?: string;
}
