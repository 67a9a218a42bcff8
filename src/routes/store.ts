// Latest routes per source; a change rebuilds the table and swaps one reference.
import { canonicalJson } from '../util/digest.js';
import { NO_FAILURES, type HealthOverlay } from '../health/overlay.js';
import { comparePools, RouteTable, type Pool } from './table.js';
import { sameData } from './same.js';
import type { Endpoint, Problem, RouteSpec } from './types.js';

export interface TableChange {
  readonly version: number;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
  readonly conflicts: readonly Problem[];
}

export class RouteStore {
  private table = RouteTable.empty();
  private readonly specs = new Map<string, readonly RouteSpec[]>();
  private readonly listeners: Array<(change: TableChange) => void> = [];
  private conflictList: readonly Problem[] = [];
  private health: HealthOverlay = NO_FAILURES;

  /** Sources from strongest: on the same host + path the first one wins. */
  constructor(private readonly sourceOrder: readonly string[]) {}

  /** The snapshot to serve this request with. */
  get current(): RouteTable {
    return this.table;
  }

  get conflicts(): readonly Problem[] {
    return this.conflictList;
  }

  /** Every source's latest specs, to rebuild the same table elsewhere (another process). */
  specsBySource(): Record<string, readonly RouteSpec[]> {
    return Object.fromEntries(this.specs);
  }

  onChange(listener: (change: TableChange) => void): void {
    this.listeners.push(listener);
  }

  /** The failing health checks every build applies (see health/overlay.ts), as plain data for workers. */
  healthFailures(): Record<string, string> {
    return Object.fromEntries(this.health);
  }

  /** Replaces one source's routes; returns the change, or null when nothing differs. */
  update(source: string, specs: readonly RouteSpec[]): TableChange | null {
    const previous = this.specs.get(source);
    if (previous !== undefined && sameSpecs(previous, specs)) return null;
    this.specs.set(source, specs);
    return this.rebuild();
  }

  /**
   * Replaces the health checks' failures (the whole set, level-triggered: the checker says what
   * fails now, never "this one flipped"). A set equal to the last one changes nothing.
   */
  setHealth(failures: HealthOverlay | Readonly<Record<string, string>>): TableChange | null {
    const next = failures instanceof Map ? new Map(failures) : new Map(Object.entries(failures));
    if (sameFailures(this.health, next)) return null;
    this.health = next;
    return this.rebuild();
  }

  private rebuild(): TableChange | null {
    const previous = this.table;
    const all = [...this.specs.values()].flat();
    const { table, conflicts } = RouteTable.build(all, this.sourceOrder, previous.version + 1, previous, this.health);
    const change = { version: table.version, ...diffPools(previous.pools, table.pools), conflicts };
    // Kept even when no pool changed: a route a stronger source shadows changes no pool, yet is a conflict.
    this.conflictList = conflicts;
    if (change.added.length + change.removed.length + change.changed.length === 0) return null;
    this.table = table;
    for (const listener of this.listeners) listener(change);
    return change;
  }
}

function sameFailures(a: HealthOverlay, b: HealthOverlay): boolean {
  if (a.size !== b.size) return false;
  for (const [id, reason] of a) if (b.get(id) !== reason) return false;
  return true;
}

/**
 * The same routes in any order: what was compared before as a digest of every spec's canonical
 * JSON. Position by position first (sources keep their order, and an unchanged spec is often the
 * same object), then only the specs that differ in place are compared as sets: the rest are equal.
 */
function sameSpecs(before: readonly RouteSpec[], after: readonly RouteSpec[]): boolean {
  if (before === after) return true;
  if (before.length !== after.length) return false;
  const moved: RouteSpec[] = [];
  const into: RouteSpec[] = [];
  for (let i = 0; i < before.length; i++) {
    if (sameData(before[i], after[i])) continue;
    moved.push(before[i]!);
    into.push(after[i]!);
  }
  if (moved.length === 0) return true;
  const counts = new Map<string, number>();
  for (const spec of moved) {
    const text = canonicalJson(spec);
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  for (const spec of into) {
    const text = canonicalJson(spec);
    const left = counts.get(text);
    if (!left) return false;
    counts.set(text, left - 1);
  }
  return true;
}

/** Every field, not a list of them: a field added to Endpoint can never be missed. */
function endpointFingerprint(endpoint: Endpoint): string {
  return canonicalJson(endpoint);
}

/**
 * Both lists are in comparePools order (every table's are), so one walk through both pairs them
 * without a map; a pool the build kept is the same object and is not compared.
 */
function diffPools(before: readonly Pool[], after: readonly Pool[]): Pick<TableChange, 'added' | 'removed' | 'changed'> {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    const was = before[i];
    const now = after[j];
    if (was === now) {
      i++;
      j++;
      continue;
    }
    const order = was === undefined ? 1 : now === undefined ? -1 : comparePools(was, now);
    if (order < 0) {
      removed.push(was!.key);
      i++;
    } else if (order > 0) {
      added.push(now!.key);
      j++;
    } else {
      if (!samePool(was!, now!)) changed.push(now!.key);
      i++;
      j++;
    }
  }
  return { added, removed, changed };
}

/** Old pools' fingerprints were taken when they were new: each pool is fingerprinted once. */
const poolFingerprints = new WeakMap<Pool, string>();

function samePool(a: Pool, b: Pool): boolean {
  if (a === b) return true;
  // The same endpoint objects (a source that keeps unchanged specs as they were) need no digest.
  if (a.source === b.source && a.redirect === b.redirect && a.endpoints.length === b.endpoints.length && a.endpoints.every((endpoint, i) => endpoint === b.endpoints[i])) {
    if (a.tls === b.tls && (a.behaviours?.spec ?? null) === (b.behaviours?.spec ?? null)) return true;
  }
  return poolFingerprint(a) === poolFingerprint(b);
}

function poolFingerprint(pool: Pool): string {
  let fingerprint = poolFingerprints.get(pool);
  if (fingerprint === undefined) {
    fingerprint = computePoolFingerprint(pool);
    poolFingerprints.set(pool, fingerprint);
  }
  return fingerprint;
}

function computePoolFingerprint(pool: Pool): string {
  return [pool.source, canonicalJson(pool.redirect), canonicalJson(pool.tls), canonicalJson(pool.behaviours?.spec ?? null), ...pool.endpoints.map(endpointFingerprint)].join('\n');
}
