// When each health check runs and what it last found: pure state driven by `now`, so the timing
// and the flips are tested with numbers. The checker (checker.ts) runs what `due` hands out.
import type { HealthSpec } from '../behaviours/spec.js';
import type { Endpoint } from '../routes/types.js';

/** One check to run: an endpoint, the route's health settings and the Host to send. */
export interface HealthTarget {
  readonly id: string;
  readonly endpoint: Endpoint;
  readonly health: HealthSpec;
  readonly host: string;
}

export type CheckResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** A check handed out by `due`; its `run` is given back to `report`. */
export interface DueCheck {
  readonly target: HealthTarget;
  readonly run: number;
}

interface Entry {
  target: HealthTarget;
  nextAt: number;
  /** The run in flight, or 0: one check at a time per target. */
  inFlight: number;
  startedAt: number;
  /** What failed, from the check that made it fail; null while passing. */
  failing: string | null;
}

export class HealthSchedule {
  private readonly entries = new Map<string, Entry>();
  private runs = 0;

  /**
   * Makes the targets the ones checked: new ones are due at once and count as passing until a
   * check fails; gone ones are forgotten with what they found. Returns whether the failures changed.
   */
  sync(targets: readonly HealthTarget[], now: number): boolean {
    let changed = false;
    const wanted = new Map(targets.map((target) => [target.id, target]));
    for (const [id, entry] of this.entries) {
      if (wanted.has(id)) continue;
      this.entries.delete(id);
      if (entry.failing !== null) changed = true;
    }
    for (const [id, target] of wanted) {
      const entry = this.entries.get(id);
      if (!entry) {
        this.entries.set(id, { target, nextAt: now, inFlight: 0, startedAt: 0, failing: null });
        continue;
      }
      // A shorter interval takes effect now, not after the old one runs out.
      if (entry.inFlight === 0) entry.nextAt = Math.min(entry.nextAt, now + target.health.intervalMs);
      entry.target = target;
    }
    return changed;
  }

  /** The checks to start now, at most `limit`, each marked in flight. */
  due(now: number, limit = Infinity): DueCheck[] {
    const due: DueCheck[] = [];
    let running = 0;
    for (const entry of this.entries.values()) if (entry.inFlight !== 0) running++;
    for (const entry of this.entries.values()) {
      if (running + due.length >= limit) break;
      if (entry.inFlight !== 0 || entry.nextAt > now) continue;
      entry.inFlight = ++this.runs;
      entry.startedAt = now;
      due.push({ target: entry.target, run: entry.inFlight });
    }
    return due;
  }

  /**
   * Records a finished check; the next one is due an interval after this one started (or at once,
   * if it took that long). Returns whether the target flipped between passing and failing. A result
   * for a target that was removed (or removed and added again) meanwhile is ignored.
   */
  report(id: string, run: number, result: CheckResult, now: number): boolean {
    const entry = this.entries.get(id);
    if (!entry || entry.inFlight !== run) return false;
    entry.inFlight = 0;
    entry.nextAt = Math.max(entry.startedAt + entry.target.health.intervalMs, now);
    if (result.ok) {
      const flipped = entry.failing !== null;
      entry.failing = null;
      return flipped;
    }
    // The reason stays the one that made it fail: a changing reason alone rebuilds no table.
    if (entry.failing !== null) return false;
    entry.failing = result.reason;
    return true;
  }

  /** When the next idle check is due, or null when none is (all in flight, or no target). */
  nextDue(): number | null {
    let next: number | null = null;
    for (const entry of this.entries.values()) if (entry.inFlight === 0 && (next === null || entry.nextAt < next)) next = entry.nextAt;
    return next;
  }

  /** Failing check ids -> what failed. */
  failures(): Map<string, string> {
    const failing = new Map<string, string>();
    for (const [id, entry] of this.entries) if (entry.failing !== null) failing.set(id, entry.failing);
    return failing;
  }

  get size(): number {
    return this.entries.size;
  }
}
