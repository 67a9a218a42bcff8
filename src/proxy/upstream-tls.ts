// How berth's TLS client checks an https upstream, from the endpoint alone.
import type { Endpoint } from '../routes/types.js';

export interface UpstreamTls {
  readonly rejectUnauthorized: boolean;
  /** Trusted instead of Node's bundled roots; absent: the bundled roots. */
  readonly ca?: string;
}

/** Containers mostly carry self-signed certificates and are not verified; file routes are, unless `tls-verify: false`. */
export function upstreamTlsOptions(endpoint: Endpoint): UpstreamTls {
  const rejectUnauthorized = endpoint.verifyTls === true;
  return rejectUnauthorized && endpoint.ca !== undefined ? { rejectUnauthorized, ca: endpoint.ca } : { rejectUnauthorized };
}
