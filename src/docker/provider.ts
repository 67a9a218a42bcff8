// The Docker source: the watch follows the daemon, the snapshot turns each list into routes and
// reports, and this file joins them to the store, the admin API and the log.
import type { Logger } from 'pino';
import type { RouteStore } from '../routes/store.js';
import type { Problem } from '../routes/types.js';
import type { RouteSource, SourceMetric, SourceStatus } from '../sources/source.js';
import { systemClock, type Clock } from '../util/clock.js';
import { digestOfLines } from '../util/digest.js';
import { NEEDS_ENVIRONMENT } from './compat/index.js';
import type { DockerClient } from './client.js';
import { labelFilters, meetsConstraints, type Constraint } from './constraints.js';
import type { ContainerSummary, RoutingOptions } from './container.js';
import { isRelevant, type DockerEvent } from './events.js';
import { findOwn, processLocator, type OwnContainerLocator } from './own.js';
import { snapshot, type ContainerReport } from './snapshot.js';
import { StoppingMarks } from './stopping.js';
import { SERVICE_ID_LABEL } from '../swarm/snapshot.js';
import { DockerWatch, type WatchState } from './watch.js';

export type { ContainerReport } from './snapshot.js';

export interface DockerProviderOptions {
  readonly client: DockerClient;
  /** For messages: where the daemon is expected. */
  readonly address: string;
  readonly routing: Omit<RoutingOptions, 'own'>;
  readonly store: RouteStore;
  readonly logger: Logger;
  readonly resyncIntervalMs: number;
  readonly reconnect: { readonly initialMs: number; readonly maxMs: number };
  /** Only containers that meet all of these are watched. */
  readonly constraints?: readonly Constraint[];
  /** Finds berth's own container; by default from what this process sees of itself. */
  readonly locator?: OwnContainerLocator;
  /** A container marked stopping that is still running after this long rejoins its pool. */
  readonly stoppingGraceMs?: number;
  readonly clock?: Clock;
  /** True while the swarm source routes services: their task containers are left to it. */
  readonly swarmActive?: () => boolean;
}

export interface DockerStatus extends WatchState, SourceStatus {
  readonly address: string;
}

export class DockerProvider implements RouteSource {
  readonly name = 'docker';
  readonly inventory = { name: 'containers', items: () => this.reports };
  private readonly watch: DockerWatch;
  private readonly stopping: StoppingMarks;
  private readonly constraints: readonly Constraint[];
  private readonly locator: OwnContainerLocator;
  /** Containers known to meet the constraints, for network events (which do not carry labels). */
  private matching: Set<string> = new Set();
  private readonly loggedProblems = new Map<string, string>();
  private reports: readonly ContainerReport[] = [];
  private routeCount = 0;
  private lastList: readonly ContainerSummary[] | null = null;
  private reportsDigest = digestOfLines([]);
  private readonly updateListeners: Array<() => void> = [];
  private loggedOwn = '';
  /** Container id -> its environment, for compat readers that need one. */
  private readonly environments = new Map<string, Record<string, string>>();
  private readonly needsEnvironment: boolean;

  constructor(private readonly options: DockerProviderOptions) {
    const clock = options.clock ?? systemClock;
    this.constraints = options.constraints ?? [];
    this.needsEnvironment = (options.routing.compat ?? []).some((reader) => NEEDS_ENVIRONMENT.has(reader));
    this.locator = options.locator ?? processLocator();
    this.stopping = new StoppingMarks(options.stoppingGraceMs ?? 60_000, () => clock.now());
    this.watch = new DockerWatch({
      client: options.client,
      address: options.address,
      logger: options.logger,
      clock,
      resyncIntervalMs: options.resyncIntervalMs,
      reconnect: options.reconnect,
      list: () => this.list(),
      onEvent: (event) => this.onEvent(event),
      onList: (containers) => this.apply(containers),
    });
  }

  get status(): DockerStatus {
    const watch = this.watch.state;
    const state = !watch.synced ? 'starting' : watch.connected ? 'ok' : 'down';
    const problems = this.reports.flatMap((report) => report.problems.map((problem) => ({ ...problem, item: report.name })));
    return { state, routes: this.routeCount, problems, address: this.options.address, ...watch };
  }

  metrics(): readonly SourceMetric[] {
    const { eventsSeen, resyncs, reconnects, connected } = this.watch.state;
    return [
      { name: 'berth_docker_events_total', help: 'Docker events received', type: 'counter', value: eventsSeen },
      { name: 'berth_docker_resyncs_total', help: 'Periodic full re-lists of containers', type: 'counter', value: resyncs },
      { name: 'berth_docker_reconnects_total', help: 'Reconnections to the Docker events stream', type: 'counter', value: reconnects },
      { name: 'berth_docker_connected', help: '1 while the Docker events stream is connected', type: 'gauge', value: connected ? 1 : 0 },
    ];
  }

  get containers(): readonly ContainerReport[] {
    return this.reports;
  }

  /** Called after every sync that changed what /api/containers shows. */
  onUpdate(listener: () => void): void {
    this.updateListeners.push(listener);
  }

  /** Resolves after the first complete sync. */
  whenSynced(): Promise<void> {
    return this.watch.whenSynced();
  }

  async start(): Promise<void> {
    this.watch.start();
  }

  async stop(): Promise<void> {
    this.watch.stop();
  }

  /** The watched containers (with their environments when a compat reader needs them). */
  private async list(): Promise<readonly ContainerSummary[]> {
    const containers = await this.listWatched();
    return this.needsEnvironment ? this.withEnvironments(containers) : containers;
  }

  /**
   * Each container's environment, inspected once and kept by id: it cannot change while the
   * container lives. A failed inspect is tried again at the next list.
   */
  private async withEnvironments(containers: readonly ContainerSummary[]): Promise<ContainerSummary[]> {
    const inspect = this.options.client.inspectEnv;
    if (!inspect) return [...containers];
    const listed = new Set(containers.map((container) => container.id));
    for (const id of this.environments.keys()) if (!listed.has(id)) this.environments.delete(id);
    const missing = containers.filter((container) => !this.environments.has(container.id));
    await Promise.all(
      missing.map(async (container) => {
        try {
          this.environments.set(container.id, await inspect.call(this.options.client, container.id));
        } catch (error) {
          this.options.logger.debug({ container: container.name, err: error }, 'inspecting a container for its environment failed; trying again at the next list');
        }
      }),
    );
    return containers.map((container) => ({ ...container, env: this.environments.get(container.id) ?? {} }));
  }

  /** The watched containers, and berth's own when the constraints leave it out. */
  private async listWatched(): Promise<readonly ContainerSummary[]> {
    const { client } = this.options;
    if (this.constraints.length === 0) return client.listContainers();
    const containers = await client.listContainers({ labels: labelFilters(this.constraints) });
    const candidates = this.locator.candidates();
    if (candidates.length === 0 || findOwn(containers, candidates)) return containers;
    for (const id of candidates) {
      const own = findOwn(await client.listContainers({ id }), [id]);
      if (own) return [...containers, own];
    }
    return containers;
  }

  private onEvent(event: DockerEvent): boolean {
    if (!this.concerns(event)) return false;
    this.stopping.note(event);
    return isRelevant(event);
  }

  /** Container events carry the labels; a network event counts for a container known to match. */
  private concerns(event: DockerEvent): boolean {
    if (this.constraints.length === 0) return true;
    if (event.type === 'container') {
      const matches = meetsConstraints(event.attributes, this.constraints);
      if (matches && event.containerId !== null) this.matching.add(event.containerId);
      return matches;
    }
    return event.containerId !== null && this.matching.has(event.containerId);
  }

  /** The swarm source turned active or inactive: who routes task containers changed, so apply the last list again. */
  swarmChanged(): void {
    if (this.lastList) this.apply(this.lastList);
  }

  private apply(containers: readonly ContainerSummary[]): void {
    this.lastList = containers;
    const own = findOwn(containers, this.locator.candidates());
    const running = new Set(containers.map((container) => container.id));
    this.stopping.forget(running);
    // berth's own container counts too: its network changes decide what it can reach.
    if (this.constraints.length > 0) this.matching = running;
    // Gone containers' entries would otherwise pile up under churn.
    for (const id of this.loggedProblems.keys()) if (!running.has(id)) this.loggedProblems.delete(id);
    const stopping = new Set(containers.filter((container) => this.stopping.has(container.id)).map((container) => container.id));
    // A task's container would route its service a second time; berth's own stays, for its networks.
    const routable = this.options.swarmActive?.() ? containers.filter((container) => container === own || container.labels[SERVICE_ID_LABEL] === undefined) : containers;
    const result = snapshot(routable, own, stopping, this.options.routing);

    const where = result.own ? `${result.own.name} ${result.own.networks.join(',')} ${result.own.hostAddress}` : '';
    if (where !== this.loggedOwn) {
      this.loggedOwn = where;
      if (result.own) {
        this.options.logger.info(
          { container: result.own.name, networks: result.own.networks, hostAddress: result.own.hostAddress },
          'berth runs in a container: containers are reached on the networks they share with it',
        );
      }
    }
    for (const report of result.reports) this.logProblems(report.id, report.name, report.problems);
    const reportsDigest = digestOfLines(result.reports.map((report) => JSON.stringify(report)));
    const changed = reportsDigest !== this.reportsDigest;
    this.reports = result.reports;
    this.reportsDigest = reportsDigest;
    if (changed) for (const listener of this.updateListeners) listener();
    this.routeCount = result.routes.length;
    this.options.store.update(this.name, result.routes);
  }

  /** Each container's problems are logged when they change, not on every sync. */
  private logProblems(id: string, name: string, problems: readonly Problem[]): void {
    const fingerprint = JSON.stringify(problems);
    if (this.loggedProblems.get(id) === fingerprint) return;
    this.loggedProblems.set(id, fingerprint);
    for (const problem of problems) {
      this.options.logger.warn({ code: problem.code, container: name, label: problem.label, fix: problem.fix }, problem.message);
    }
  }
}
