// What Redis and etcd share as route sources: the connect / follow / back off loop, the last good
// routes kept while a store is away, problems per key, status and metrics. Each store brings a
// session (how to read it all and follow its changes) and a reader (one key -> routes).
import type { Logger } from 'pino';
import type { RouteStore } from '../routes/store.js';
import type { Problem } from '../routes/types.js';
import type { RouteSource, SourceMetric, SourceName, SourceStatus } from '../sources/source.js';
import { createBackoff } from '../util/backoff.js';
import { StoreEntries, type EntryReading, type ReadEntry } from './entries.js';

/** What a session tells the loop and the entries; the only way a session changes routes. */
export interface StoreSink {
  /** A full read: everything the store holds under berth's prefixes, key -> raw value. */
  replaceAll(all: ReadonlyMap<string, string>): void;
  /** Keys that changed (raw value) or went away (null), applied as one change of the table. */
  put(changes: ReadonlyArray<readonly [key: string, raw: string | null]>): void;
  /** A fact the status shows (how changes are followed, the revision, ...). */
  fact(name: string, value: string | number | null): void;
}

/** One connection's life: `ended` settles when it breaks; `close` ends it from our side. */
export interface StoreSession {
  /** Resolves with 'reread' when the store asks for a full read at once (a compacted watch). */
  readonly ended: Promise<'broken' | 'reread'>;
  close(): void;
}

export interface StoreConnector {
  /** Connects, reads everything into the sink, then follows changes; rejects when it cannot. */
  open(sink: StoreSink): Promise<StoreSession>;
}

export interface StoreProviderOptions {
  readonly name: Extract<SourceName, 'redis' | 'etcd'>;
  /** As logs and the admin API show it: no password. */
  readonly address: string;
  readonly connector: StoreConnector;
  readonly read: ReadEntry;
  readonly store: RouteStore;
  readonly logger: Logger;
  /** Code logged when the store cannot be reached. */
  readonly unreachableCode: string;
  readonly reconnect?: { readonly initialMs: number; readonly maxMs: number };
}

export interface StoreStatus extends SourceStatus {
  readonly address: string;
  readonly connected: boolean;
  readonly keys: number;
  readonly reloads: number;
  readonly changes: number;
  readonly reconnects: number;
  readonly lastError: { code: string; message: string } | null;
  readonly [fact: string]: unknown;
}

export class StoreProvider implements RouteSource {
  readonly name: Extract<SourceName, 'redis' | 'etcd'>;
  private readonly entries: StoreEntries;
  private readonly backoff;
  private readonly listeners: Array<() => void> = [];
  private readonly facts = new Map<string, string | number | null>();
  private loggedConflicts = new Set<string>();
  /** The entries' routes version last handed to the route store (its fingerprint of this source). */
  private published = -1;
  private session: StoreSession | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private synced = false;
  private connected = false;
  private lastSyncAt: string | null = null;
  private lastError: { code: string; message: string } | null = null;
  private counts = { reloads: 0, changes: 0, reconnects: 0 };
  private readonly firstSync: Promise<void>;
  private markSynced!: () => void;

  constructor(private readonly options: StoreProviderOptions) {
    this.name = options.name;
    this.entries = new StoreEntries(options.read);
    // A short cap like Docker's: a store on the same network is cheap to reach again.
    this.backoff = createBackoff(options.reconnect?.initialMs ?? 100, options.reconnect?.maxMs ?? 2000);
    this.firstSync = new Promise((resolve) => (this.markSynced = resolve));
  }

  get status(): StoreStatus {
    const state = !this.synced ? 'starting' : this.connected ? 'ok' : 'down';
    return {
      state,
      routes: this.entries.specs.length,
      problems: this.entries.problems,
      lastSyncAt: this.lastSyncAt,
      address: this.options.address,
      connected: this.connected,
      keys: this.entries.size,
      ...this.counts,
      lastError: this.lastError,
      ...Object.fromEntries(this.facts),
    };
  }

  metrics(): readonly SourceMetric[] {
    const name = this.name;
    return [
      { name: `berth_${name}_connected`, help: `1 while berth follows ${name}`, type: 'gauge', value: this.connected ? 1 : 0 },
      { name: `berth_${name}_reloads_total`, help: `Full reads of ${name}`, type: 'counter', value: this.counts.reloads },
      { name: `berth_${name}_changes_total`, help: `Changed ${name} keys read one by one`, type: 'counter', value: this.counts.changes },
      { name: `berth_${name}_reconnects_total`, help: `Reconnections to ${name}`, type: 'counter', value: this.counts.reconnects },
      { name: `berth_${name}_keys`, help: `${name} keys berth routes from`, type: 'gauge', value: this.entries.size },
    ];
  }

  whenSynced(): Promise<void> {
    return this.firstSync;
  }

  onUpdate(listener: () => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    this.loop = this.run().catch((error: unknown) => this.options.logger.error({ code: this.options.unreachableCode, err: error }, `the ${this.name} loop ended`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.session?.close();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    let attempt = 0;
    let ended: 'broken' | 'reread' = 'broken';
    while (!this.stopped) {
      // A full read the store asked for (compaction, the periodic one) is no reconnection.
      if (attempt++ > 0 && ended === 'broken') this.counts.reconnects++;
      ended = 'broken';
      try {
        const session = await this.options.connector.open(this.sink());
        if (this.stopped) {
          session.close();
          break;
        }
        this.session = session;
        const wasDown = this.synced && !this.connected;
        this.connected = true;
        this.lastError = null;
        this.backoff.reset();
        this.firstSynced();
        if (wasDown) logger.info({ address: this.options.address, routes: this.entries.specs.length }, `${this.name} is back; its routes are read again`);
        this.told();
        ended = await session.ended;
        session.close();
        this.session = null;
      } catch (error) {
        this.lastError = { code: this.options.unreachableCode, message: messageOf(error) };
      }
      if (this.stopped) break;
      if (ended === 'reread') continue;
      if (this.connected || !this.synced) {
        logger.error({ code: this.options.unreachableCode, address: this.options.address, err: this.lastError?.message, routes: this.entries.specs.length }, `${this.name} cannot be reached; keeping its last good routes`);
      }
      this.connected = false;
      this.firstSynced();
      this.told();
      await this.sleep(this.backoff.next());
    }
    this.connected = false;
  }

  private sink(): StoreSink {
    return {
      replaceAll: (all) => {
        const changed = this.entries.replace(all);
        this.counts.reloads++;
        this.publish(changed);
      },
      put: (changes) => {
        const changed = changes.filter(([key, raw]) => (raw === null ? this.entries.remove(key) : this.entries.put(key, raw) !== null)).map(([key]) => key);
        this.counts.changes += changes.length;
        this.publish(changed);
      },
      fact: (name, value) => {
        if (this.facts.get(name) === value) return;
        this.facts.set(name, value);
        this.told();
      },
    };
  }

  private publish(changedKeys: readonly string[]): void {
    this.lastSyncAt = new Date().toISOString();
    if (changedKeys.length === 0) return;
    for (const key of changedKeys) this.logProblems(key, this.entries.get(key));
    const version = this.entries.routesVersion;
    if (version !== this.published) {
      this.published = version;
      this.options.store.update(this.name, this.entries.specs);
    }
    this.logConflicts();
    this.told();
  }

  /**
   * The table's conflicts that involve this store, each logged once: a store's route shadowed by
   * the routes file (or shadowing Docker's) changes no pool, so the table's change log never shows it.
   */
  private logConflicts(): void {
    const mine = this.options.store.conflicts.filter((conflict) => conflict.message.includes(`${this.name} ${this.name} `));
    const now = new Set(mine.map((conflict) => conflict.message));
    for (const conflict of mine) if (!this.loggedConflicts.has(conflict.message)) this.options.logger.warn({ code: conflict.code, store: this.name }, conflict.message);
    this.loggedConflicts = now;
  }

  /** A key's problems are logged when it is read anew, so an unchanged bad key is not logged every second. */
  private logProblems(key: string, reading: EntryReading | undefined): void {
    for (const problem of reading?.problems ?? []) logProblem(this.options.logger, this.name, problem);
  }

  private firstSynced(): void {
    if (this.synced) return;
    this.synced = true;
    this.markSynced();
  }

  private told(): void {
    for (const listener of this.listeners) listener();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

function logProblem(logger: Logger, store: string, problem: Problem): void {
  logger.warn({ code: problem.code, store, key: problem.item, line: problem.line, column: problem.column, fix: problem.fix }, problem.message);
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
