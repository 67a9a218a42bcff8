// What one container list means: routes and a report per container. Pure: the list, berth's own
// container and the stopping marks in, plain data out; the provider does the I/O around it.
import type { Problem, RouteSpec } from '../routes/types.js';
import { containerRouting, type ContainerSummary, type OwnPlacement, type RoutingOptions } from './container.js';
import { placementOf } from './own.js';
import { readiness } from './readiness.js';

export interface ContainerReport {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly status: string;
  readonly routed: boolean;
  readonly ready: boolean;
  readonly notReadyReason: string | null;
  readonly routes: ReadonlyArray<{ host: string | null; path: string; address: string; port: number; scheme: string }>;
  readonly problems: readonly Problem[];
}

export interface Snapshot {
  readonly routes: readonly RouteSpec[];
  /** Every container but berth's own, by name. */
  readonly reports: readonly ContainerReport[];
  /** Where berth's container stands; null when berth runs on the host. */
  readonly own: OwnPlacement | null;
}

export function snapshot(
  containers: readonly ContainerSummary[],
  own: ContainerSummary | null,
  stopping: ReadonlySet<string>,
  options: Omit<RoutingOptions, 'own'>,
): Snapshot {
  const placement = own === null ? null : placementOf(own);
  const routing: RoutingOptions = { ...options, own: placement };
  const routes: RouteSpec[] = [];
  const reports: ContainerReport[] = [];
  for (const container of [...containers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (container.id === own?.id) continue;
    const notReady = readiness(container, stopping.has(container.id));
    const result = containerRouting(container, routing, notReady);
    routes.push(...result.routes, ...(result.redirects ?? []));
    reports.push({
      id: container.id,
      name: container.name,
      state: container.state,
      status: container.status,
      routed: result.routed,
      ready: notReady === null,
      notReadyReason: notReady,
      routes: [
        ...result.routes.map(({ host, path, endpoint }) => ({ host, path, address: endpoint.address, port: endpoint.port, scheme: endpoint.scheme })),
        // A redirect goes nowhere inside: its report names where clients are sent, by its code.
        ...(result.redirects ?? []).map(({ host, path, redirect }) => ({ host, path, address: redirect.location, port: redirect.code, scheme: 'redirect' })),
      ],
      problems: result.problems,
    });
  }
  return { routes, reports, own: placement };
}
