// What one swarm list means: routes and a report per service. Pure: services, tasks, networks, the
// local containers (berth's own, the local tasks' health) and the stopping marks in, plain data out.
import type { RouteSpec } from '../routes/types.js';
import type { ContainerSummary, OwnPlacement, RoutingOptions } from '../docker/container.js';
import { placementOf } from '../docker/own.js';
import type { NetworkSummary, ServiceSummary, TaskSummary } from './engine.js';
import { serviceRouting, type LocalTask, type ServiceReport } from './service.js';

/** The labels swarm puts on every task's container. */
export const TASK_ID_LABEL = 'com.docker.swarm.task.id';
export const SERVICE_ID_LABEL = 'com.docker.swarm.service.id';

export interface SwarmList {
  readonly services: readonly ServiceSummary[];
  /** Tasks whose desired state is running. */
  readonly tasks: readonly TaskSummary[];
  readonly networks: readonly NetworkSummary[];
  /** The running containers on this node. */
  readonly containers: readonly ContainerSummary[];
}

export interface SwarmSnapshot {
  readonly routes: readonly RouteSpec[];
  /** Every service but berth's own, by name. */
  readonly reports: readonly ServiceReport[];
  /** Where berth's container stands; null when berth runs on the host. */
  readonly own: OwnPlacement | null;
}

export function swarmSnapshot(list: SwarmList, own: ContainerSummary | null, stopping: ReadonlySet<string>, options: Omit<RoutingOptions, 'own'>): SwarmSnapshot {
  // The routing mesh's network joins every publishing task: sharing it is no choice of network.
  const ingress = new Set(list.networks.filter((network) => network.ingress).map((network) => network.name));
  const withoutIngress = (networks: Readonly<Record<string, string>>) => (ingress.size === 0 ? networks : Object.fromEntries(Object.entries(networks).filter(([name]) => !ingress.has(name))));
  const placement = own === null ? null : placementOf({ ...own, networks: withoutIngress(own.networks) });
  const routing: RoutingOptions = { ...options, own: placement };
  const ownService = own?.labels[SERVICE_ID_LABEL] ?? null;
  const networkNames = new Map(list.networks.filter((network) => !network.ingress).map((network) => [network.id, network.name]));
  const local = new Map<string, LocalTask>();
  for (const container of list.containers) {
    const task = container.labels[TASK_ID_LABEL];
    if (task !== undefined) local.set(task, { health: container.health, stopping: stopping.has(task) });
  }
  for (const task of stopping) if (!local.has(task)) local.set(task, { health: null, stopping: true });
  const tasksOf = new Map<string, TaskSummary[]>();
  for (const listed of list.tasks) {
    const task = ingress.size === 0 ? listed : { ...listed, networks: withoutIngress(listed.networks) };
    const group = tasksOf.get(task.serviceId);
    if (group) group.push(task);
    else tasksOf.set(task.serviceId, [task]);
  }
  const routes: RouteSpec[] = [];
  const reports: ServiceReport[] = [];
  for (const service of [...list.services].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (service.id === ownService) continue;
    const result = serviceRouting({ service, tasks: tasksOf.get(service.id) ?? [], networkNames, local }, routing);
    routes.push(...result.routes);
    reports.push(result.report);
  }
  return { routes, reports, own: placement };
}
