// Which hosts ACME should hold certificates for, as a function of the route table. Pure.
import { hasPublicName } from '../routes/hsts.js';
import { isWildcard } from '../routes/host.js';
import type { Pool } from '../routes/table.js';

/**
 * One group per host of an HTTPS route that no folder certificate covers: exact names only
 * (wildcards need DNS-01), and only names a public CA can issue for unless the route asked for
 * HTTPS itself (a private CA can issue anything). Sorted, so equal tables want equal lists.
 */
export function wantedHosts(pools: readonly Pool[], coveredByFolder: (host: string) => boolean): string[][] {
  const hosts = new Set<string>();
  for (const pool of pools) {
    const host = pool.host;
    if (!pool.tls || host === null || isWildcard(host)) continue;
    if (!pool.tls.explicit && !hasPublicName(host)) continue;
    if (!coveredByFolder(host)) hosts.add(host);
  }
  return [...hosts].sort().map((host) => [host]);
}
