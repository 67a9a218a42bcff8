// The Docker source: events are hints, the container list is the truth.
// Open the event stream first, then list, so nothing falls in the gap; every relevant event,
// every reconnect and a slow timer lead to one coalesced, single-flight rebuild.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { Codes } from '../errors.js';
import type { RouteStore } from '../routes/store.js';
import type { Problem, RouteSpec } from '../routes/types.js';
import { createBackoff } from '../util/backoff.js';
import { systemClock, type Clock } from '../util/clock.js';
import { createCoalescer } from '../util/coalescer.js';
import { digestOfLines } from '../util/digest.js';
import type { DockerClient } from './client.js';
import { containerRouting, type ContainerSummary, type RoutingOptions } from './container.js';
import { isRelevant, parseEvent } from './events.js';
import { createLineSplitter } from './line-splitter.js';
import { readiness } from './readiness.js';
import { StoppingMarks } from './stopping.js';

export interface DockerProviderOptions {
  readonly client: DockerClient;
  /** For messages: where the daemon is expected. */
  readonly address: string;
  readonly routing: Omit<RoutingOptions, 'ownNetworks'>;
  readonly store: RouteStore;
  readonly logger: Logger;
  readonly resyncIntervalMs: number;
  readonly reconnect: { readonly initialMs: number; readonly maxMs: number };
  /** A container marked stopping that is still running after this long rejoins its pool. */
  readonly stoppingGraceMs?: number;
  readonly clock?: Clock;
}

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

export interface DockerStatus {
  readonly address: string;
  readonly connected: boolean;
  readonly apiVersion: string | null;
  readonly synced: boolean;
  readonly lastSyncAt: string | null;
  readonly eventsSeen: number;
  readonly resyncs: number;
  readonly reconnects: number;
  readonly lastError: { code: string; message: string } | null;
}

const SOURCE = 'docker';
const NETWORK_SETTLE_MS = 250;

export class DockerProvider {
  private readonly clock: Clock;
  private readonly backoff;
  private readonly rebuild;
  private readonly stopping: StoppingMarks;
  private readonly loggedProblems = new Map<string, string>();
  private reports: ContainerReport[] = [];
  private reportsDigest = digestOfLines([]);
  private readonly updateListeners: Array<() => void> = [];
  private loggedOwn = '';
  private stream: Readable | null = null;
  private stopped = false;
  private down = false;
  private eventsSinceSync = 0;
  private lastStateFingerprint = '';
  private resyncTimer: { cancel(): void } | null = null;
  private followUp: { cancel(): void } | null = null;
  private checkSilence = false;
  private readonly synced: Promise<void>;
  private markSynced!: () => void;
  private state = {
    connected: false,
    apiVersion: null as string | null,
    synced: false,
    lastSyncAt: null as string | null,
    eventsSeen: 0,
    resyncs: 0,
    reconnects: 0,
    lastError: null as { code: string; message: string } | null,
  };

  constructor(private readonly options: DockerProviderOptions) {
    this.clock = options.clock ?? systemClock;
    this.backoff = createBackoff(options.reconnect.initialMs, options.reconnect.maxMs);
    this.stopping = new StoppingMarks(options.stoppingGraceMs ?? 60_000, () => this.clock.now());
    this.rebuild = createCoalescer(
      () => this.sync(),
      (error) => this.options.logger.error({ code: Codes.dockerList, err: error }, 'listing containers failed; keeping the last good routes'),
    );
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
  }

  get status(): DockerStatus {
    return { address: this.options.address, ...this.state };
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
    return this.synced;
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.resyncTimer?.cancel();
    this.followUp?.cancel();
    this.stream?.destroy();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.connectAndFollow();
      } catch (error) {
        this.noteFailure(error);
      }
      if (this.stopped) break;
      this.state.connected = false;
      await this.pauseBeforeRetry();
      this.state.reconnects++;
    }
  }

  private async connectAndFollow(): Promise<void> {
    const { client, logger } = this.options;
    this.state.apiVersion = await client.connect();
    const stream = await client.openEvents();
    this.stream = stream;
    const ended = new Promise<string>((resolve) => {
      stream.once('end', () => resolve('ended'));
      stream.once('error', (error: Error) => resolve(`failed: ${error.message}`));
      stream.once('close', () => resolve('closed'));
    });
    const splitter = createLineSplitter(
      (line) => this.onEventLine(line),
      (bytes) => logger.warn({ code: Codes.dockerEventLine, bytes }, 'dropped an oversized event line'),
    );
    stream.on('data', (chunk: Buffer) => splitter.push(chunk));

    this.state.connected = true;
    if (this.down) logger.info({ address: this.options.address }, 'Docker is reachable again; resyncing');
    else logger.info({ address: this.options.address, apiVersion: this.state.apiVersion }, 'connected to Docker');
    this.down = false;
    this.state.lastError = null;
    await this.rebuild.request();
    this.backoff.reset();
    this.scheduleResync();

    const why = await ended;
    this.resyncTimer?.cancel();
    this.followUp?.cancel();
    this.stream = null;
    stream.destroy();
    if (!this.stopped) logger.warn({ address: this.options.address, reason: why }, 'Docker event stream lost; reconnecting');
  }

  /** Waits out the backoff; the daemon's socket appearing ends the wait at once. */
  private pauseBeforeRetry(): Promise<void> {
    return new Promise((resolve) => {
      const end = () => {
        timer.cancel();
        unwatch();
        resolve();
      };
      const timer = this.clock.setTimeout(end, this.backoff.next());
      const unwatch = this.options.client.watchForDaemon(() => {
        // The socket exists a moment before the daemon accepts on it: retry soon, not after the grown delay.
        this.backoff.reset();
        end();
      });
    });
  }

  private noteFailure(error: unknown): void {
    const err = error as { code?: string; message?: string };
    const code = err.code === Codes.dockerApiTooOld ? Codes.dockerApiTooOld : Codes.dockerUnreachable;
    this.state.lastError = { code, message: String(err.message ?? error) };
    this.state.connected = false;
    if (!this.down) {
      // Once per outage; the last good routes keep serving meanwhile.
      this.options.logger.error({ code, address: this.options.address, err: error }, 'cannot reach Docker; serving the last good routes and retrying');
      this.down = true;
    }
  }

  private onEventLine(line: string): void {
    const event = parseEvent(line);
    if (!event) {
      this.options.logger.warn({ code: Codes.dockerEventLine, line: line.slice(0, 200) }, 'ignored an unreadable event line');
      return;
    }
    this.state.eventsSeen++;
    this.eventsSinceSync++;
    this.stopping.note(event);
    if (!isRelevant(event)) return;
    void this.rebuild.request();
    // Docker announces a network (dis)connect before the container list shows it: look again soon.
    if (event.type === 'network') this.scheduleFollowUp();
  }

  private scheduleFollowUp(): void {
    this.followUp?.cancel();
    this.followUp = this.clock.setTimeout(() => void this.rebuild.request(), NETWORK_SETTLE_MS);
  }

  private scheduleResync(): void {
    this.resyncTimer?.cancel();
    this.resyncTimer = this.clock.setTimeout(() => {
      if (this.stopped || !this.state.connected) return;
      this.state.resyncs++;
      this.checkSilence = true;
      void this.rebuild.request().then(() => this.scheduleResync());
    }, this.options.resyncIntervalMs);
  }

  private async sync(): Promise<void> {
    const eventsBefore = this.eventsSinceSync;
    const containers = await this.options.client.listContainers();
    this.eventsSinceSync -= eventsBefore;
    const fingerprint = stateFingerprint(containers);
    // Only a periodic re-list may judge the stream: event-driven ones were announced.
    const changedUnannounced = this.checkSilence && this.state.synced && eventsBefore === 0 && fingerprint !== this.lastStateFingerprint;
    this.checkSilence = false;
    this.lastStateFingerprint = fingerprint;
    this.apply(containers);
    this.state.synced = true;
    this.state.lastSyncAt = new Date(this.clock.now()).toISOString();
    this.markSynced();
    if (changedUnannounced && this.stream) {
      // Containers changed but no event said so: the stream is alive on paper only.
      this.options.logger.warn({ code: Codes.dockerStreamSilent }, 'containers changed without events; replacing the event stream');
      this.stream.destroy();
    }
  }

  private apply(containers: readonly ContainerSummary[]): void {
    const own = ownContainer(containers);
    const routing = { ...this.options.routing, ownNetworks: own ? ownNetworks(own) : [] };
    const where = own ? `${own.name} ${routing.ownNetworks.join(',')}` : '';
    if (where !== this.loggedOwn) {
      this.loggedOwn = where;
      if (own) this.options.logger.info({ container: own.name, networks: routing.ownNetworks }, 'berth runs in a container: containers are reached on the networks they share with it');
    }
    const running = new Set(containers.map((container) => container.id));
    this.stopping.forget(running);
    // Gone containers' entries would otherwise pile up under churn.
    for (const id of this.loggedProblems.keys()) if (!running.has(id)) this.loggedProblems.delete(id);
    const specs: RouteSpec[] = [];
    const reports: ContainerReport[] = [];
    for (const container of [...containers].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (container === own) continue;
      const notReady = readiness(container, this.stopping.has(container.id));
      const result = containerRouting(container, routing, notReady);
      specs.push(...result.routes);
      this.logProblems(container, result.problems);
      reports.push({
        id: container.id,
        name: container.name,
        state: container.state,
        status: container.status,
        routed: result.routed,
        ready: notReady === null,
        notReadyReason: notReady,
        routes: result.routes.map(({ host, path, endpoint }) => ({ host, path, address: endpoint.address, port: endpoint.port, scheme: endpoint.scheme })),
        problems: result.problems,
      });
    }
    const reportsDigest = digestOfLines(reports.map((report) => JSON.stringify(report)));
    const changed = reportsDigest !== this.reportsDigest;
    this.reports = reports;
    this.reportsDigest = reportsDigest;
    if (changed) for (const listener of this.updateListeners) listener();
    this.options.store.update(SOURCE, specs);
  }

  /** Each container's problems are logged when they change, not on every sync. */
  private logProblems(container: ContainerSummary, problems: readonly Problem[]): void {
    const fingerprint = JSON.stringify(problems);
    if (this.loggedProblems.get(container.id) === fingerprint) return;
    this.loggedProblems.set(container.id, fingerprint);
    for (const problem of problems) {
      this.options.logger.warn({ code: problem.code, container: container.name, label: problem.label, fix: problem.fix }, problem.message);
    }
  }
}

/**
 * berth's own container, when berth runs in one: the container whose folder holds the
 * /etc/hostname mounted here (found whatever --hostname says), else the one whose short id is
 * the hostname (Docker's default hostname).
 */
function ownContainer(containers: readonly ContainerSummary[]): ContainerSummary | undefined {
  const id = mountedContainerId();
  const byMount = id === null ? undefined : containers.find((container) => container.id === id);
  if (byMount) return byMount;
  const host = hostname();
  if (!/^[0-9a-f]{12}$/.test(host)) return undefined;
  return containers.find((container) => container.id.startsWith(host));
}

let mountedId: string | null | undefined;

/** The id in `.../containers/<id>/hostname`, mounted on /etc/hostname by Docker; null outside a container. */
function mountedContainerId(): string | null {
  if (mountedId === undefined) {
    try {
      mountedId = /\/containers\/([0-9a-f]{64})\/hostname /.exec(readFileSync('/proc/self/mountinfo', 'utf8'))?.[1] ?? null;
    } catch {
      mountedId = null;
    }
  }
  return mountedId;
}

/**
 * The networks berth can reach containers on: those its container has an address on. With
 * --network host it has none, and reaches containers as a process on the host would.
 */
function ownNetworks(own: ContainerSummary): string[] {
  if (own.networkMode === 'host') return [];
  return Object.keys(own.networks).filter((name) => own.networks[name] !== '').sort();
}

/** A digest of what routing reads from the list, kept between syncs (the text would cost memory). */
function stateFingerprint(containers: readonly ContainerSummary[]): string {
  return digestOfLines(containers.map((c) => `${c.id} ${c.state} ${c.health ?? ''} ${JSON.stringify(c.networks)} ${JSON.stringify(c.labels)}`));
}
