// What active health checks have found, as plain data the table build reads: the checks that fail,
// by check id, with what failed. The checker owns the results; the store hands them to every
// build, so a table is still a pure function of (specs, overlay) and is never patched.
import type { HealthSpec } from '../behaviours/spec.js';
import { bracketed } from '../util/ip.js';
import type { Endpoint } from '../routes/types.js';

/** Failing checks: check id -> what failed (`status 500`, `connection refused`...). */
export type HealthOverlay = ReadonlyMap<string, string>;

export const NO_FAILURES: HealthOverlay = new Map();

export const HEALTH_REASON = 'health check failing';

/**
 * One check: what is asked of whom, with which Host. Two routes that check the same endpoint the
 * same way share it; the endpoint's key is in it, so a replaced container is checked anew.
 */
export function checkId(endpoint: Endpoint, health: HealthSpec, poolHost: string | null): string {
  return `${endpoint.key} ${health.path} ${checkHost(endpoint, poolHost)}`;
}

/**
 * The Host a check sends: the upstream's own for `host-header: upstream`, else the route's host
 * (as a request would carry it), else the endpoint's address for routes of any host or a wildcard.
 */
export function checkHost(endpoint: Endpoint, poolHost: string | null): string {
  if (!endpoint.upstreamHost && poolHost !== null && !poolHost.startsWith('*.')) return poolHost;
  const defaultPort = endpoint.scheme === 'https' ? 443 : 80;
  return endpoint.port === defaultPort ? bracketed(endpoint.address) : `${bracketed(endpoint.address)}:${endpoint.port}`;
}

/**
 * The pool's endpoints with the overlay applied: a ready endpoint whose check fails is not ready.
 * An endpoint already not ready keeps the reason it has (Docker's says more). Unchanged endpoints
 * stay the same objects, and with no failure the same array comes back.
 */
export function withHealth(endpoints: readonly Endpoint[], health: HealthSpec | undefined, poolHost: string | null, overlay: HealthOverlay): readonly Endpoint[] {
  if (!health || overlay.size === 0) return endpoints;
  let changed = false;
  const result = endpoints.map((endpoint) => {
    const failure = endpoint.ready ? overlay.get(checkId(endpoint, health, poolHost)) : undefined;
    if (failure === undefined) return endpoint;
    changed = true;
    return { ...endpoint, ready: false, notReadyReason: `${HEALTH_REASON}: ${failure}` };
  });
  return changed ? result : endpoints;
}
