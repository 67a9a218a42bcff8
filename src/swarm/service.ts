// One swarm service -> its routes and report. Pure. Each running task is read as a container with
// the service's labels, so services and containers share one label set, one network rule and one
// set of problems; the tasks' endpoints then form the service's pool.
import { Codes } from '../errors.js';
import { uniqueProblems } from '../routes/problems.js';
import type { ForwardSpec, Problem, RedirectSpec } from '../routes/types.js';
import { readContainerLabels } from '../docker/compat/index.js';
import { containerRouting, type ContainerSummary, type Readiness, type RoutingOptions } from '../docker/container.js';
import { taskName, type ServiceSummary, type TaskSummary } from './engine.js';

/** What berth knows of a task's container when it runs on this node (the list shows local containers only). */
export interface LocalTask {
  /** `healthy`, `unhealthy`, `starting`, or null without a health check. */
  readonly health: string | null;
  /** Marked by a stop or kill event: it leaves its pool before swarm reports it gone. */
  readonly stopping: boolean;
}

export interface TaskReport {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly ready: boolean;
  readonly notReadyReason: string | null;
  /** Its address in the pool; null with lb=vip or when no network fits. */
  readonly address: string | null;
}

export interface ServiceReport {
  readonly id: string;
  readonly name: string;
  readonly mode: string;
  /** Desired replicas; null for global services. */
  readonly replicas: number | null;
  /** `tasks`: berth balances over the tasks' addresses; `vip`: swarm does, behind the service's virtual IP. */
  readonly lb: 'tasks' | 'vip';
  readonly routed: boolean;
  readonly routes: ReadonlyArray<{ host: string | null; path: string; address: string; port: number; scheme: string }>;
  readonly tasks: readonly TaskReport[];
  readonly problems: readonly Problem[];
}

export interface ServiceRouting {
  readonly routes: ReadonlyArray<ForwardSpec | RedirectSpec>;
  readonly report: ServiceReport;
}

export interface ServiceInput {
  readonly service: ServiceSummary;
  /** Its tasks whose desired state is running. */
  readonly tasks: readonly TaskSummary[];
  /** Network id -> name, for the service's virtual IPs. */
  readonly networkNames: ReadonlyMap<string, string>;
  /** By task id, for the tasks on this node. */
  readonly local: ReadonlyMap<string, LocalTask>;
}

/** Which balancing the `<prefix>.swarm.lb` label asks for. */
function lbOf(service: ServiceSummary, prefix: string, problems: Problem[]): 'tasks' | 'vip' {
  const label = `${prefix}.swarm.lb`;
  const value = service.labels[label];
  if (value === undefined || value === 'tasks') return 'tasks';
  if (value === 'vip') {
    if (service.endpointMode !== 'dnsrr') return 'vip';
    problems.push({ code: Codes.swarmLb, label, message: 'the service has no virtual IP (endpoint mode dnsrr)', fix: `remove ${label}, or give the service --endpoint-mode vip` });
    return 'tasks';
  }
  problems.push({ code: Codes.swarmLb, label, message: `${label} must be "tasks" or "vip", not "${value}"`, fix: `set ${label}=vip to send to the service's virtual IP, or remove it` });
  return 'tasks';
}

/** Why a task cannot take new requests, or null when it can. */
export function taskReadiness(task: TaskSummary, local: LocalTask | undefined): Readiness {
  if (task.desiredState !== 'running') return `task is to be ${task.desiredState}`;
  if (task.state !== 'running') return `task is ${task.state}`;
  if (local?.stopping) return 'task is stopping';
  if (local?.health === 'unhealthy') return 'health check failing';
  if (local?.health === 'starting') return 'health check starting';
  return null;
}

export function serviceRouting(input: ServiceInput, options: RoutingOptions): ServiceRouting {
  const { service } = input;
  const prefix = options.labelPrefix;
  const problems: Problem[] = [];
  const lb = lbOf(service, prefix, problems);
  // berth.swarm.* are read here; the container reader would call them unknown.
  const labels = Object.fromEntries(Object.entries(service.labels).filter(([key]) => !key.startsWith(`${prefix}.swarm.`)));
  // Read once: every task of the service has the same labels.
  const reading = readContainerLabels(labels, prefix, options.compat ?? []);
  const tasks = [...input.tasks].sort((a, b) => (a.slot ?? 0) - (b.slot ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const asContainer = (id: string, name: string, networks: Readonly<Record<string, string>>, state: string): ContainerSummary => ({
    id,
    name,
    labels,
    state,
    status: '',
    health: null,
    ports: service.ports,
    networks,
    networkMode: 'swarm',
  });

  const routes: Array<ForwardSpec | RedirectSpec> = [];
  const taskReports: TaskReport[] = [];
  let routed = false;
  const take = (container: ContainerSummary, notReady: Readiness): string | null => {
    const result = containerRouting(container, options, notReady, reading);
    routed = result.routed;
    problems.push(...result.problems);
    for (const route of result.routes) routes.push({ ...route, source: 'swarm' });
    for (const redirect of result.redirects ?? []) routes.push({ ...redirect, source: 'swarm', redirect: { ...redirect.redirect, origin: `service ${service.name}` } });
    return result.routes[0]?.endpoint.address ?? null;
  };

  if (lb === 'vip') {
    const vips: Record<string, string> = {};
    for (const [id, address] of Object.entries(service.virtualIps)) {
      const name = input.networkNames.get(id);
      if (name !== undefined) vips[name] = address;
    }
    const readiness = tasks.map((task) => taskReadiness(task, input.local.get(task.id)));
    const anyReady = readiness.some((reason) => reason === null);
    const vip = take(asContainer(service.id, service.name, vips, 'running'), anyReady ? null : 'no task is running');
    tasks.forEach((task, index) => taskReports.push({ id: task.id, name: taskName(service, task), state: task.state, ready: readiness[index] === null, notReadyReason: readiness[index] ?? null, address: vip }));
  } else {
    for (const task of tasks) {
      const notReady = taskReadiness(task, input.local.get(task.id));
      // Named by the service: name routing (--domain) gives one host for all its tasks.
      const address = take(asContainer(task.id, service.name, task.networks, 'running'), notReady);
      taskReports.push({ id: task.id, name: taskName(service, task), state: task.state, ready: notReady === null, notReadyReason: notReady, address });
    }
    // With no task, the labels are still read, so their problems show before the first replica runs.
    if (tasks.length === 0) {
      const probe = containerRouting(asContainer(service.id, service.name, {}, 'running'), options, 'no task is running', reading);
      routed = probe.routed;
      problems.push(...probe.problems.filter((problem) => problem.code !== Codes.networkMissing && problem.code !== Codes.networkAmbiguous));
    }
  }

  const unique = uniqueRoutes(routes);
  return {
    routes: unique,
    report: {
      id: service.id,
      name: service.name,
      mode: service.mode,
      replicas: service.replicas,
      lb,
      routed,
      routes: unique.map((route) =>
        route.endpoint
          ? { host: route.host, path: route.path, address: route.endpoint.address, port: route.endpoint.port, scheme: route.endpoint.scheme }
          : { host: route.host, path: route.path, address: route.redirect.location, port: route.redirect.code, scheme: 'redirect' },
      ),
      tasks: taskReports,
      problems: uniqueProblems(problems.map((problem) => forService(problem, service.name))),
    },
  };
}

/** Each task reads the same labels: a redirect is one route, not one per task. */
function uniqueRoutes(routes: ReadonlyArray<ForwardSpec | RedirectSpec>): Array<ForwardSpec | RedirectSpec> {
  const seen = new Set<string>();
  return routes.filter((route) => {
    if (route.endpoint) return true;
    const key = `${route.host ?? '*'} ${route.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The container reader speaks of containers and `docker network connect`; a service's user needs service words. */
function forService(problem: Problem, service: string): Problem {
  const words = (text: string) => {
    const said = text.replace(/\bthe container\b/g, 'the service');
    // Only this fix names the item itself; the others name berth's own container, which stays right.
    return problem.code === Codes.networkMissing ? said.replace(/docker network connect (\S+) \S+\)/g, `docker service update --network-add $1 ${service})`) : said;
  };
  return { ...problem, message: words(problem.message), ...(problem.fix !== undefined ? { fix: words(problem.fix) } : {}) };
}
