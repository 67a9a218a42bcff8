// What the primary tells a worker of the routes: every source's specs once, then only what changed
// since what that worker last got (a splice per changed source). With 10,000 routes and one
// changed, a message carries one spec, not ten thousand, and the worker's table reuses the rest.
import type { RouteStore } from '../routes/store.js';
import { sameData } from '../routes/same.js';
import type { RouteSpec } from '../routes/types.js';

export type SourceSpecs = Readonly<Record<string, readonly RouteSpec[]>>;

/** `specs.splice(start, deleteCount, ...insert)` turns what the worker holds into the new list. */
export interface SpecsSplice {
  readonly start: number;
  readonly deleteCount: number;
  readonly insert: readonly RouteSpec[];
}

/** The splice per source from `before` to `after`; empty when nothing differs. */
export function specsChanges(before: SourceSpecs, after: SourceSpecs): Record<string, SpecsSplice> {
  const changes: Record<string, SpecsSplice> = {};
  for (const [source, now] of Object.entries(after)) {
    const was = before[source] ?? [];
    if (was === now) continue;
    const splice = spliceBetween(was, now);
    if (splice) changes[source] = splice;
  }
  return changes;
}

/** The one splice that keeps the longest common start and end; null when the lists are equal. */
export function spliceBetween(before: readonly RouteSpec[], after: readonly RouteSpec[]): SpecsSplice | null {
  const shorter = Math.min(before.length, after.length);
  let start = 0;
  while (start < shorter && sameData(before[start], after[start])) start++;
  if (start === before.length && start === after.length) return null;
  let end = 0;
  while (end < shorter - start && sameData(before[before.length - 1 - end], after[after.length - 1 - end])) end++;
  return { start, deleteCount: before.length - start - end, insert: after.slice(start, after.length - end) };
}

/** Applies a primary's changes to this process's store, keeping the specs it already holds. */
export function applySpecsChanges(store: RouteStore, changes: Readonly<Record<string, SpecsSplice>>): void {
  const held = store.specsBySource();
  for (const [source, { start, deleteCount, insert }] of Object.entries(changes)) {
    const specs = [...(held[source] ?? [])];
    specs.splice(start, deleteCount, ...insert);
    store.update(source, specs);
  }
}

export type RoutesMessage =
  | { readonly type: 'berth:routes'; readonly sources: Record<string, readonly RouteSpec[]>; readonly health: Readonly<Record<string, string>> }
  | { readonly type: 'berth:routes-changed'; readonly changes: Record<string, SpecsSplice>; readonly health: Readonly<Record<string, string>> };

/**
 * What each worker holds, so the next message can be a change to it. A worker is followed from
 * its hello (messages before it could be lost); one whose first full set is still to come gets
 * full sets, as every message used to be.
 */
export class RoutesFeed<W> {
  private readonly held = new Map<W, SourceSpecs | null>();

  constructor(private readonly store: RouteStore) {}

  /** The worker listens: from now on it is sent every change. */
  follow(worker: W): void {
    if (!this.held.has(worker)) this.held.set(worker, null);
  }

  forget(worker: W): void {
    this.held.delete(worker);
  }

  /** A message to the worker was lost: what it holds is unknown, so its next message is a full set. */
  lost(worker: W): void {
    if (this.held.has(worker)) this.held.set(worker, null);
  }

  /** Every source's routes, for a worker that is to hold exactly them. */
  full(worker: W): RoutesMessage {
    const sources = this.store.specsBySource();
    // A worker that exited in the meantime stays forgotten.
    if (this.held.has(worker)) this.held.set(worker, sources);
    return { type: 'berth:routes', sources, health: this.store.healthFailures() };
  }

  /** The message per followed worker after a change; workers that held the same get the same message. */
  changed(): Array<[W, RoutesMessage]> {
    const sources = this.store.specsBySource();
    const health = this.store.healthFailures();
    const built = new Map<SourceSpecs, RoutesMessage>();
    const out: Array<[W, RoutesMessage]> = [];
    for (const [worker, held] of this.held) {
      if (held === null) {
        out.push([worker, { type: 'berth:routes', sources, health }]);
      } else {
        let message = built.get(held);
        if (!message) {
          message = { type: 'berth:routes-changed', changes: specsChanges(held, sources), health };
          built.set(held, message);
        }
        out.push([worker, message]);
      }
      this.held.set(worker, sources);
    }
    return out;
  }
}
