// What the admin API shows, as plain JSON-ready data.
import type { RouteTable } from '../routes/table.js';
import type { Problem } from '../routes/types.js';
import { bracketed } from '../util/ip.js';

export function routesView(table: RouteTable, conflicts: readonly Problem[]) {
  return {
    version: table.version,
    routes: table.pools.map((pool) => ({
      host: pool.host ?? '*',
      path: pool.path,
      source: pool.source,
      redirect: pool.redirect,
      endpoints: pool.endpoints.map((endpoint) => ({
        container: endpoint.container?.name ?? null,
        containerId: endpoint.container?.id ?? null,
        origin: endpoint.origin ?? null,
        url: `${endpoint.scheme}://${bracketed(endpoint.address)}:${endpoint.port}${endpoint.basePath ?? ''}`,
        stripPrefix: endpoint.stripPrefix,
        ready: endpoint.ready,
        notReadyReason: endpoint.notReadyReason ?? null,
      })),
    })),
    conflicts,
  };
}
