// Following a swarm: connect, learn the engine's role, and on a manager open the event stream
// first and then list, so nothing falls in the gap. Service and container events, every reconnect
// and the task poll (tasks have no events of their own) lead to one coalesced, single-flight
// re-list. What a list means is the caller's business.
import type { Logger } from 'pino';
import { Codes } from '../errors.js';
import { createBackoff } from '../util/backoff.js';
import type { Clock } from '../util/clock.js';
import { createCoalescer } from '../util/coalescer.js';
import type { DockerClient, EventStream } from '../docker/client.js';
import type { DockerEvent } from '../docker/events.js';
import { describeDockerFailure } from '../docker/failure.js';
import type { SwarmRole } from './engine.js';
import type { SwarmList } from './snapshot.js';

export interface SwarmWatchOptions {
  readonly client: DockerClient;
  /** For messages: where the daemon is expected. */
  readonly address: string;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Between task polls. */
  readonly pollMs: number;
  /** Between looks at the role of an engine that is no manager (it may become one). */
  readonly roleCheckMs: number;
  readonly reconnect: { readonly initialMs: number; readonly maxMs: number };
  list(): Promise<SwarmList>;
  /** Each event; true when it may change what the list says about routing. */
  onEvent(event: DockerEvent): boolean;
  /** Each list, in order. */
  onList(list: SwarmList): void;
  /** Each role read, before any list it leads to. */
  onRole(role: SwarmRole): void;
}

/**
 * Looks after a service event: the orchestrator acts on a new spec a moment after the event (new
 * tasks, old ones set to shut down), and remote tasks send no container events to say so.
 */
export const SERVICE_FOLLOW_UPS_MS: readonly number[] = [100, 300, 700, 1500];

export interface SwarmWatchState {
  readonly connected: boolean;
  readonly role: SwarmRole | null;
  readonly synced: boolean;
  readonly lastSyncAt: string | null;
  readonly eventsSeen: number;
  readonly polls: number;
  readonly reconnects: number;
  readonly lastError: { code: string; message: string } | null;
}

export class SwarmWatch {
  private readonly backoff;
  private readonly rebuild;
  private stream: EventStream | null = null;
  private stopped = false;
  private down = false;
  private pollTimer: { cancel(): void } | null = null;
  private followUps: Array<{ cancel(): void }> = [];
  /** The last list was refused with an HTTP status. */
  private refused = false;
  private wake: (() => void) | null = null;
  private readonly synced: Promise<void>;
  private markSynced!: () => void;
  private readonly current = {
    connected: false,
    role: null as SwarmRole | null,
    synced: false,
    lastSyncAt: null as string | null,
    eventsSeen: 0,
    polls: 0,
    reconnects: 0,
    lastError: null as { code: string; message: string } | null,
  };

  constructor(private readonly options: SwarmWatchOptions) {
    this.backoff = createBackoff(options.reconnect.initialMs, options.reconnect.maxMs);
    this.rebuild = createCoalescer(
      () => this.sync(),
      (error) => {
        const failure = describeDockerFailure(error, options.address);
        // Once per cause: a proxy that refuses /services would otherwise log at every retry.
        if (this.current.lastError?.message !== failure.message) options.logger.error({ code: Codes.swarmList, err: error }, 'listing swarm services and tasks failed; keeping the last good routes');
        this.current.lastError = { code: Codes.swarmList, message: failure.message };
        // The first sync is over, if not good: berth must not wait for the swarm to be ready.
        this.settleFirst();
        // An answer, not an outage (a proxy's 403, a demoted manager's 503): look again slowly.
        this.refused = typeof (error as { statusCode?: unknown }).statusCode === 'number';
        // Reconnecting reads the role again.
        this.stream?.close();
      },
    );
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
  }

  get state(): SwarmWatchState {
    return { ...this.current };
  }

  whenSynced(): Promise<void> {
    return this.synced;
  }

  start(): void {
    // run() catches per attempt; this guards a throw outside them (nothing may reject unheard).
    this.run().catch((error: unknown) => this.noteFailure(error));
  }

  stop(): void {
    this.stopped = true;
    this.pollTimer?.cancel();
    this.cancelFollowUps();
    this.stream?.close();
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let waitMs: number | null = null;
      try {
        waitMs = await this.connectAndFollow();
      } catch (error) {
        this.noteFailure(error);
      }
      if (this.stopped) break;
      this.current.connected = false;
      await this.pause(waitMs ?? this.backoff.next());
      if (waitMs === null) this.current.reconnects++;
    }
  }

  /** Follows until the stream ends; returns how long to wait before looking again when the engine is no manager. */
  private async connectAndFollow(): Promise<number | null> {
    const { client, logger, address } = this.options;
    await client.connect();
    const role = await readRole(client);
    this.current.role = role;
    if (this.current.lastError?.code !== Codes.swarmList) this.current.lastError = null;
    this.down = false;
    this.options.onRole(role);
    if (!role.manager) {
      this.current.lastError = null;
      this.backoff.reset();
      this.markDone();
      return this.options.roleCheckMs;
    }
    const stream = await client.openEvents(
      {
        onEvent: (event) => this.onEvent(event),
        onBadLine: (bad) => logger.warn({ code: Codes.dockerEventLine, ...('bytes' in bad ? { bytes: bad.bytes } : { line: bad.line }) }, 'ignored an unreadable event line'),
      },
      ['service', 'container', 'network'],
    );
    this.stream = stream;
    this.current.connected = true;
    logger.info({ address, node: role.nodeId }, 'following the swarm: services by their events, tasks by polling');
    this.refused = false;
    await this.rebuild.request();
    if (this.current.lastError === null) this.backoff.reset();
    this.schedulePoll();
    const why = await stream.ended;
    this.pollTimer?.cancel();
    this.cancelFollowUps();
    this.stream = null;
    stream.close();
    if (this.refused) return this.options.roleCheckMs;
    if (!this.stopped) logger.warn({ address, reason: why }, 'swarm event stream lost; reconnecting');
    return null;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.options.clock.setTimeout(() => end(), ms);
      const end = () => {
        timer.cancel();
        this.wake = null;
        resolve();
      };
      this.wake = end;
    });
  }

  private noteFailure(error: unknown): void {
    const failure = describeDockerFailure(error, this.options.address);
    this.current.lastError = { code: failure.code, message: failure.message };
    this.current.connected = false;
    this.settleFirst();
    if (!this.down) {
      // The Docker source, always beside this one on the same engine, logs the outage: a second
      // error line for the same cause would only be noise. The status still shows it.
      this.options.logger.debug({ code: failure.code, address: this.options.address }, `${failure.message}; serving the last good swarm routes and retrying`);
      this.down = true;
    }
  }

  private onEvent(event: DockerEvent): void {
    this.current.eventsSeen++;
    if (!this.options.onEvent(event)) return;
    void this.rebuild.request();
    if (event.type === 'service') this.scheduleFollowUps();
  }

  /** One schedule at a time: a burst of service events looks again as often as one does. */
  private scheduleFollowUps(): void {
    this.cancelFollowUps();
    this.followUps = SERVICE_FOLLOW_UPS_MS.map((ms) =>
      this.options.clock.setTimeout(() => {
        if (!this.stopped && this.current.connected) void this.rebuild.request();
      }, ms),
    );
  }

  private cancelFollowUps(): void {
    for (const timer of this.followUps) timer.cancel();
    this.followUps = [];
  }

  private schedulePoll(): void {
    this.pollTimer?.cancel();
    this.pollTimer = this.options.clock.setTimeout(() => {
      if (this.stopped || !this.current.connected) return;
      this.current.polls++;
      void this.rebuild.request().then(() => this.schedulePoll());
    }, this.options.pollMs);
  }

  private async sync(): Promise<void> {
    const list = await this.options.list();
    this.options.onList(list);
    this.current.lastError = null;
    this.refused = false;
    this.markDone();
  }

  private markDone(): void {
    this.current.lastSyncAt = new Date(this.options.clock.now()).toISOString();
    this.settleFirst();
  }

  private settleFirst(): void {
    this.current.synced = true;
    this.markSynced();
  }
}

/** The engine's role; an engine (or a socket proxy) that refuses to say is read as in no swarm. */
async function readRole(client: DockerClient): Promise<SwarmRole> {
  try {
    return await client.swarmRole!();
  } catch (error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    if (typeof status !== 'number') throw error;
    return { state: `unknown (GET /info answered ${status})`, manager: false, nodeId: null };
  }
}
