// One replica at a time per host group: a lock with an expiry, renewed while held, released at the
// end. The commands (Redis SET NX PX and two compare-and-act scripts) are I/O; when to renew, when
// the lock counts as lost and what release does are here, driven by a clock.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../util/clock.js';
import type { HeldLock } from './store.js';

/** What a lock needs of the storage; each resolves to whether it acted (the caller still owned it). */
export interface LockCommands {
  /** Takes `name` for `owner` if nobody holds it, for ttlMs. */
  acquire(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Extends the expiry if `owner` still holds it. */
  renew(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Deletes it if `owner` still holds it: never another's lock. */
  release(name: string, owner: string): Promise<boolean>;
}

export interface LockOptions {
  readonly ttlMs: number;
  readonly clock: Clock;
  /** Told once when a renewal finds the lock gone or cannot reach the storage in time. */
  readonly onLost?: (name: string, why: string) => void;
  /** The owner token; random by default. */
  readonly owner?: string;
}

/** Renewals every third of the lifetime: two may fail (or be late) before the lock expires. */
export function renewEveryMs(ttlMs: number): number {
  return Math.max(1, Math.floor(ttlMs / 3));
}

/** Takes the lock `name`, or resolves null when another owner holds it; rejects when the storage does. */
export async function takeLock(commands: LockCommands, name: string, options: LockOptions): Promise<HeldLock | null> {
  const owner = options.owner ?? randomBytes(12).toString('hex');
  if (!(await commands.acquire(name, owner, options.ttlMs))) return null;
  let held = true;
  let released = false;
  let timer: { cancel(): void } | null = null;
  let expiresAt = options.clock.now() + options.ttlMs;
  const lose = (why: string) => {
    if (!held) return;
    held = false;
    timer?.cancel();
    timer = null;
    options.onLost?.(name, why);
  };
  const schedule = () => {
    timer = options.clock.setTimeout(() => {
      timer = null;
      const asked = options.clock.now();
      commands.renew(name, owner, options.ttlMs).then(
        (renewed) => {
          if (released) return;
          if (!renewed) return lose('the lock expired or another replica took it');
          expiresAt = asked + options.ttlMs;
          schedule();
        },
        (error: unknown) => {
          if (released) return;
          // A failed renewal is not a lost lock while the last one still runs: try again.
          if (options.clock.now() >= expiresAt) return lose(`the storage did not answer before the lock expired (${(error as Error).message})`);
          schedule();
        },
      );
    }, renewEveryMs(options.ttlMs));
  };
  schedule();
  return {
    get held() {
      return held && options.clock.now() < expiresAt;
    },
    async release() {
      if (released) return;
      released = true;
      held = false;
      timer?.cancel();
      timer = null;
      // Left to expire when the storage is away: the next holder waits at most the lifetime.
      await commands.release(name, owner).catch(() => false);
    },
  };
}
