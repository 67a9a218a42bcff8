// What every route source offers the rest of berth: the admin API, metrics and dashboard read
// sources only through this, and the table knows none of them.
import type { Problem } from '../routes/types.js';

/** Sources from strongest: on the same host and path the first one wins (operator intent first). */
export const SOURCE_ORDER = ['file', 'redis', 'etcd', 'docker', 'swarm'] as const;

export type SourceName = (typeof SOURCE_ORDER)[number];

/**
 * starting: before the first sync; ok: in step with its input; invalid: its input is bad and the
 * last good routes stay; missing: its input is gone; down: unreachable, the last good routes stay.
 */
export type SourceState = 'starting' | 'ok' | 'invalid' | 'missing' | 'down';

export interface SourceStatus {
  readonly state: SourceState;
  /** Route specs this source has in force. */
  readonly routes: number;
  /** Items it skipped and why (a label, a line, a key), each with its code. */
  readonly problems: readonly Problem[];
  readonly lastSyncAt: string | null;
}

/** A number the source keeps, published as a Prometheus metric under its own name. */
export interface SourceMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly value: number;
}

/** What a source lists beside its routes (containers, services), served as `/api/<name>`. */
export interface SourceInventory {
  readonly name: string;
  items(): readonly unknown[];
}

export interface RouteSource {
  readonly name: SourceName;
  /** The common fields, and its own facts (address, counters, path) beside them. */
  readonly status: SourceStatus;
  readonly inventory?: SourceInventory;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves after the first complete sync, whatever its outcome. */
  whenSynced(): Promise<void>;
  /** Called when its status or inventory changed in a way the dashboard shows. */
  onUpdate(listener: () => void): void;
  /** Read when metrics are scraped; must not change the source. */
  metrics(): readonly SourceMetric[];
}
