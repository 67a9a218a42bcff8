// Following Docker: connect, open the event stream first and then list, so nothing falls in the
// gap; every relevant event, every reconnect, each follow-up look and a slow timer lead to one
// coalesced, single-flight re-list. What a list means is the caller's business.
import type { Logger } from 'pino';
import { Codes } from '../errors.js';
import { createBackoff } from '../util/backoff.js';
import type { Clock } from '../util/clock.js';
import { createCoalescer } from '../util/coalescer.js';
import { digestOfLines } from '../util/digest.js';
import type { DockerClient, EventStream } from './client.js';
import type { ContainerSummary } from './container.js';
import type { DockerEvent } from './events.js';
import { describeDockerFailure } from './failure.js';
import { expectationOf, FollowUps } from './follow-up.js';

export interface WatchOptions {
  readonly client: DockerClient;
  /** For messages: where the daemon is expected. */
  readonly address: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly resyncIntervalMs: number;
  readonly reconnect: { readonly initialMs: number; readonly maxMs: number };
  /** The containers as they are now. */
  list(): Promise<readonly ContainerSummary[]>;
  /** Each event; true when it may change what the list says about routing. */
  onEvent(event: DockerEvent): boolean;
  /** Each list, in order. */
  onList(containers: readonly ContainerSummary[]): void;
}

export interface WatchState {
  readonly connected: boolean;
  readonly apiVersion: string | null;
  readonly synced: boolean;
  readonly lastSyncAt: string | null;
  readonly eventsSeen: number;
  readonly resyncs: number;
  readonly reconnects: number;
  readonly lastError: { code: string; message: string } | null;
}

export class DockerWatch {
  private readonly backoff;
  private readonly rebuild;
  private readonly followUps: FollowUps;
  private stream: EventStream | null = null;
  private stopped = false;
  private down = false;
  private eventsSinceSync = 0;
  private lastStateFingerprint = '';
  private resyncTimer: { cancel(): void } | null = null;
  private checkSilence = false;
  private readonly synced: Promise<void>;
  private markSynced!: () => void;
  private readonly current = {
    connected: false,
    apiVersion: null as string | null,
    synced: false,
    lastSyncAt: null as string | null,
    eventsSeen: 0,
    resyncs: 0,
    reconnects: 0,
    lastError: null as { code: string; message: string } | null,
  };

  constructor(private readonly options: WatchOptions) {
    this.backoff = createBackoff(options.reconnect.initialMs, options.reconnect.maxMs);
    this.rebuild = createCoalescer(
      () => this.sync(),
      (error) => this.options.logger.error({ code: Codes.dockerList, err: error }, 'listing containers failed; keeping the last good routes'),
    );
    this.followUps = new FollowUps(options.clock, () => void this.rebuild.request());
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
  }

  get state(): WatchState {
    return { ...this.current };
  }

  /** Resolves after the first complete list. */
  whenSynced(): Promise<void> {
    return this.synced;
  }

  /** Expectations of recent events the list does not show yet. */
  get awaiting(): readonly string[] {
    return this.followUps.keys;
  }

  start(): void {
    // run() catches per attempt; this guards a throw outside them (nothing may reject unheard).
    this.run().catch((error: unknown) => this.noteFailure(error));
  }

  stop(): void {
    this.stopped = true;
    this.resyncTimer?.cancel();
    this.followUps.clear();
    this.stream?.close();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.connectAndFollow();
      } catch (error) {
        this.noteFailure(error);
      }
      if (this.stopped) break;
      this.current.connected = false;
      await this.pauseBeforeRetry();
      this.current.reconnects++;
    }
  }

  private async connectAndFollow(): Promise<void> {
    const { client, logger, address } = this.options;
    this.current.apiVersion = await client.connect();
    const stream = await client.openEvents({
      onEvent: (event) => this.onEvent(event),
      onBadLine: (bad) =>
        'bytes' in bad
          ? logger.warn({ code: Codes.dockerEventLine, bytes: bad.bytes }, 'dropped an oversized event line')
          : logger.warn({ code: Codes.dockerEventLine, line: bad.line }, 'ignored an unreadable event line'),
    });
    this.stream = stream;

    this.current.connected = true;
    if (this.down) logger.info({ address }, 'Docker is reachable again; resyncing');
    else logger.info({ address, apiVersion: this.current.apiVersion }, 'connected to Docker');
    this.down = false;
    this.current.lastError = null;
    await this.rebuild.request();
    this.backoff.reset();
    this.scheduleResync();

    const why = await stream.ended;
    this.resyncTimer?.cancel();
    this.followUps.clear();
    this.stream = null;
    stream.close();
    if (!this.stopped) logger.warn({ address, reason: why }, 'Docker event stream lost; reconnecting');
  }

  /** Waits out the backoff; the daemon's socket appearing ends the wait at once. */
  private pauseBeforeRetry(): Promise<void> {
    return new Promise((resolve) => {
      const end = () => {
        timer.cancel();
        unwatch();
        resolve();
      };
      const timer = this.options.clock.setTimeout(end, this.backoff.next());
      const unwatch = this.options.client.watchForDaemon(() => {
        // The socket exists a moment before the daemon accepts on it: retry soon, not after the grown delay.
        this.backoff.reset();
        end();
      });
    });
  }

  private noteFailure(error: unknown): void {
    const failure = describeDockerFailure(error, this.options.address);
    this.current.lastError = { code: failure.code, message: failure.message };
    this.current.connected = false;
    if (!this.down) {
      // Once per outage; the last good routes keep serving meanwhile.
      this.options.logger.error({ code: failure.code, address: this.options.address, fix: failure.fix, err: error }, `${failure.message}; serving the last good routes and retrying`);
      this.down = true;
    }
  }

  private onEvent(event: DockerEvent): void {
    this.current.eventsSeen++;
    this.eventsSinceSync++;
    if (!this.options.onEvent(event)) return;
    void this.rebuild.request();
    const expectation = expectationOf(event);
    if (expectation) this.followUps.expect(expectation);
  }

  private scheduleResync(): void {
    this.resyncTimer?.cancel();
    this.resyncTimer = this.options.clock.setTimeout(() => {
      if (this.stopped || !this.current.connected) return;
      this.current.resyncs++;
      this.checkSilence = true;
      void this.rebuild.request().then(() => this.scheduleResync());
    }, this.options.resyncIntervalMs);
  }

  private async sync(): Promise<void> {
    const eventsBefore = this.eventsSinceSync;
    const askedAt = this.options.clock.now();
    const containers = await this.options.list();
    this.eventsSinceSync -= eventsBefore;
    const fingerprint = stateFingerprint(containers);
    // Only a periodic re-list may judge the stream: event-driven ones were announced.
    const changedUnannounced = this.checkSilence && this.current.synced && eventsBefore === 0 && fingerprint !== this.lastStateFingerprint;
    this.checkSilence = false;
    this.lastStateFingerprint = fingerprint;
    this.options.onList(containers);
    if (this.stream) this.followUps.settle(containers, askedAt);
    this.current.synced = true;
    this.current.lastSyncAt = new Date(this.options.clock.now()).toISOString();
    this.markSynced();
    if (changedUnannounced && this.stream) {
      // Containers changed but no event said so: the stream is alive on paper only.
      this.options.logger.warn({ code: Codes.dockerStreamSilent }, 'containers changed without events; replacing the event stream');
      this.stream.close();
    }
  }
}

/** A digest of what routing reads from the list, kept between syncs (the text would cost memory). */
function stateFingerprint(containers: readonly ContainerSummary[]): string {
  return digestOfLines(containers.map((c) => `${c.id} ${c.state} ${c.health ?? ''} ${JSON.stringify(c.networks)} ${JSON.stringify(c.labels)}`));
}
