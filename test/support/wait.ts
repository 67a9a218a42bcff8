import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Says what is awaited, for the timeout message ("httpd answering at 172.17.0.2"); a function can tell what it saw last. */
  what: string | (() => string);
  timeoutMs?: number;
  intervalMs?: number;
}

/** Calls fn until it returns something other than undefined or false; errors count as "not yet". */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false>,
  { what, timeoutMs = 10_000, intervalMs = 100 }: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await fn();
      if (result !== undefined && result !== false) return result;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}${cause}`);
    }
    await sleep(intervalMs);
  }
}
