// The swarm source: the watch follows the manager, the snapshot turns each list into routes and
// reports, and this file joins them to the store, the admin API and the log.
import type { Logger } from 'pino';
import { Codes } from '../errors.js';
import type { RouteStore } from '../routes/store.js';
import type { Problem } from '../routes/types.js';
import type { RouteSource, SourceMetric, SourceStatus } from '../sources/source.js';
import { systemClock, type Clock } from '../util/clock.js';
import { digestOfLines } from '../util/digest.js';
import type { DockerClient } from '../docker/client.js';
import type { RoutingOptions } from '../docker/container.js';
import { isRevival, isTerminating, type DockerEvent } from '../docker/events.js';
import { findOwn, processLocator, type OwnContainerLocator } from '../docker/own.js';
import type { SwarmRole } from './engine.js';
import type { ServiceReport } from './service.js';
import { swarmSnapshot, TASK_ID_LABEL, type SwarmList } from './snapshot.js';
import { SwarmWatch, type SwarmWatchState } from './watch.js';

export type { ServiceReport } from './service.js';

export interface SwarmProviderOptions {
  readonly client: DockerClient;
  /** For messages: where the daemon is expected. */
  readonly address: string;
  /** `auto`: follow the swarm when the engine is a manager; `on`: a problem when it is not. */
  readonly mode: 'auto' | 'on';
  readonly routing: Omit<RoutingOptions, 'own'>;
  readonly store: RouteStore;
  readonly logger: Logger;
  readonly pollMs: number;
  /** Between looks at the role of an engine that is no manager. */
  readonly roleCheckMs: number;
  readonly reconnect: { readonly initialMs: number; readonly maxMs: number };
  readonly locator?: OwnContainerLocator;
  readonly clock?: Clock;
}

export interface SwarmStatus extends SwarmWatchState, SourceStatus {
  readonly address: string;
  /** True while the engine is a manager and its services are followed. */
  readonly active: boolean;
}

export const WORKER_MESSAGE = 'swarm services are only visible on managers: constrain berth to node.role == manager, or point DOCKER_HOST at a manager';

const SERVICE_ACTIONS = new Set(['create', 'update', 'remove']);
const CONTAINER_ACTIONS = new Set(['start', 'die', 'stop', 'kill', 'destroy', 'pause', 'unpause', 'restart']);

export class SwarmProvider implements RouteSource {
  readonly name = 'swarm';
  readonly inventory = { name: 'services', items: () => this.reports };
  private readonly watch: SwarmWatch;
  private readonly locator: OwnContainerLocator;
  /** Tasks whose container a stop or kill event marked: they leave their pool at once. */
  private readonly stopping = new Set<string>();
  private readonly clock: Clock;
  private reports: readonly ServiceReport[] = [];
  private reportsDigest = digestOfLines([]);
  private routeCount = 0;
  private roleProblem: Problem | null = null;
  private readonly loggedProblems = new Map<string, string>();
  private readonly updateListeners: Array<() => void> = [];
  private loggedRole = '';

  constructor(private readonly options: SwarmProviderOptions) {
    this.clock = options.clock ?? systemClock;
    this.locator = options.locator ?? processLocator();
    this.watch = new SwarmWatch({
      client: options.client,
      address: options.address,
      logger: options.logger,
      clock: this.clock,
      pollMs: options.pollMs,
      roleCheckMs: options.roleCheckMs,
      reconnect: options.reconnect,
      list: () => this.list(),
      onEvent: (event) => this.onEvent(event),
      onList: (list) => this.apply(list),
      onRole: (role) => this.onRole(role),
    });
  }

  /** Whether services are followed now: the Docker source leaves task containers to this one then. */
  get active(): boolean {
    return this.watch.state.role?.manager === true;
  }

  get status(): SwarmStatus {
    const watch = this.watch.state;
    const active = watch.role?.manager === true;
    const state = !watch.synced ? 'starting' : this.roleProblem ? 'invalid' : watch.lastError !== null ? 'down' : 'ok';
    const problems = [...(this.roleProblem ? [this.roleProblem] : []), ...this.reports.flatMap((report) => report.problems.map((problem) => ({ ...problem, item: report.name })))];
    return { state, routes: this.routeCount, problems, address: this.options.address, active, ...watch };
  }

  metrics(): readonly SourceMetric[] {
    const { eventsSeen, polls, reconnects, connected } = this.watch.state;
    return [
      { name: 'berth_swarm_events_total', help: 'Swarm service and task container events received', type: 'counter', value: eventsSeen },
      { name: 'berth_swarm_polls_total', help: 'Task polls of the swarm', type: 'counter', value: polls },
      { name: 'berth_swarm_reconnects_total', help: 'Reconnections to the swarm manager', type: 'counter', value: reconnects },
      { name: 'berth_swarm_connected', help: '1 while the swarm manager is followed', type: 'gauge', value: connected ? 1 : 0 },
    ];
  }

  get services(): readonly ServiceReport[] {
    return this.reports;
  }

  onUpdate(listener: () => void): void {
    this.updateListeners.push(listener);
  }

  whenSynced(): Promise<void> {
    return this.watch.whenSynced();
  }

  async start(): Promise<void> {
    this.watch.start();
  }

  async stop(): Promise<void> {
    this.watch.stop();
  }

  private async list(): Promise<SwarmList> {
    const { client } = this.options;
    const [services, tasks, networks, containers] = await Promise.all([client.listServices!(), client.listTasks!(), client.listNetworks!(), client.listContainers()]);
    return { services, tasks, networks, containers };
  }

  private onRole(role: SwarmRole): void {
    if (role.manager) this.roleProblem = null;
    else if (role.state === 'active') this.roleProblem = { code: Codes.swarmWorker, message: WORKER_MESSAGE, fix: 'constrain berth to node.role == manager, or point DOCKER_HOST at a manager' };
    else if (this.options.mode === 'on') this.roleProblem = { code: Codes.swarmInactive, message: `the engine is not in a swarm (its state: ${role.state})`, fix: 'run berth against a swarm manager (behind a socket proxy, allow INFO, SERVICES, TASKS and NETWORKS), or start it with --swarm=false' };
    else this.roleProblem = null;
    const said = `${role.state} ${role.manager}`;
    if (said !== this.loggedRole) {
      this.loggedRole = said;
      if (this.roleProblem) this.options.logger.warn({ code: this.roleProblem.code, fix: this.roleProblem.fix }, this.roleProblem.message);
      else if (!role.manager) this.options.logger.info({ state: role.state }, 'the engine is not in a swarm; looking again from time to time');
      this.notify();
    }
    // A node that is no manager shows no services: what it had is gone.
    if (!role.manager && (this.routeCount > 0 || this.reports.length > 0)) this.apply({ services: [], tasks: [], networks: [], containers: [] });
  }

  private onEvent(event: DockerEvent): boolean {
    if (event.type === 'service') return SERVICE_ACTIONS.has(event.action);
    if (event.type === 'network') return event.action === 'connect' || event.action === 'disconnect';
    if (event.type !== 'container' || !CONTAINER_ACTIONS.has(event.action)) return false;
    const task = event.attributes[TASK_ID_LABEL];
    if (task !== undefined) {
      // Swarm sends SIGTERM before its task list says so: leave the pool now, as containers do.
      if (isTerminating(event)) this.stopping.add(task);
      else if (isRevival(event)) this.stopping.delete(task);
      return true;
    }
    // berth's own container: its networks decide what it reaches.
    return event.containerId !== null && this.locator.candidates().some((id) => event.containerId!.startsWith(id));
  }

  private apply(list: SwarmList): void {
    const own = findOwn(list.containers, this.locator.candidates());
    const listed = new Set(list.tasks.map((task) => task.id));
    for (const task of this.stopping) if (!listed.has(task)) this.stopping.delete(task);
    const result = swarmSnapshot(list, own, this.stopping, this.options.routing);
    const ids = new Set(result.reports.map((report) => report.id));
    for (const id of this.loggedProblems.keys()) if (!ids.has(id)) this.loggedProblems.delete(id);
    for (const report of result.reports) this.logProblems(report.id, report.name, report.problems);
    const digest = digestOfLines(result.reports.map((report) => JSON.stringify(report)));
    const changed = digest !== this.reportsDigest;
    this.reports = result.reports;
    this.reportsDigest = digest;
    this.routeCount = result.routes.length;
    this.options.store.update(this.name, result.routes);
    if (changed) this.notify();
  }

  private notify(): void {
    for (const listener of this.updateListeners) listener();
  }

  /** Each service's problems are logged when they change, not on every poll. */
  private logProblems(id: string, name: string, problems: readonly Problem[]): void {
    const fingerprint = JSON.stringify(problems);
    if (this.loggedProblems.get(id) === fingerprint) return;
    this.loggedProblems.set(id, fingerprint);
    for (const problem of problems) this.options.logger.warn({ code: problem.code, service: name, label: problem.label, fix: problem.fix }, problem.message);
  }
}
