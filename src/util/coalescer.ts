// Single-flight, coalescing runner: however many requests arrive while a run is going,
// exactly one more run follows it. Runs never overlap.

export interface Coalescer {
  /** Asks for a run; resolves when a run that started after this call has finished. */
  request(): Promise<void>;
  /** Whether a run is going now. */
  readonly running: boolean;
}

export function createCoalescer(run: () => Promise<void>, onError: (error: unknown) => void): Coalescer {
  let running = false;
  let again = false;
  let waiting: Array<() => void> = [];

  async function loop(): Promise<void> {
    running = true;
    while (again) {
      again = false;
      const settled = waiting;
      waiting = [];
      try {
        await run();
      } catch (error) {
        // A failing error handler must not stop the loop for good.
        try {
          onError(error);
        } catch {}
      }
      for (const resolve of settled) resolve();
    }
    running = false;
  }

  return {
    request(): Promise<void> {
      again = true;
      const done = new Promise<void>((resolve) => waiting.push(resolve));
      if (!running) void loop();
      return done;
    },
    get running() {
      return running;
    },
  };
}
