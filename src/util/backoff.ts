// Capped exponential backoff with jitter: reconnects spread out and never wait too long.

export interface Backoff {
  /** The delay before the next attempt, growing each call. */
  next(): number;
  reset(): void;
  readonly attempts: number;
}

export function createBackoff(initialMs: number, maxMs: number, random: () => number = Math.random): Backoff {
  let attempts = 0;
  return {
    next(): number {
      const ceiling = Math.min(maxMs, initialMs * 2 ** attempts);
      attempts++;
      // Between half and all of the ceiling.
      return Math.round(ceiling / 2 + (random() * ceiling) / 2);
    },
    reset(): void {
      attempts = 0;
    },
    get attempts() {
      return attempts;
    },
  };
}
