// A clock for unit tests of timed logic (locks, health schedules): no real time passes.
import type { Clock } from '../../src/util/clock.js';

/** A clock whose time moves only when the test says, running due timers in order. */
export function fakeClock() {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  const clock: Clock = {
    now: () => now,
    setTimeout(fn, ms) {
      const timer = { at: now + ms, fn, cancelled: false };
      timers.push(timer);
      return { cancel: () => void (timer.cancelled = true) };
    },
  };
  const advance = async (ms: number) => {
    const end = now + ms;
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      const next = timers.filter((timer) => !timer.cancelled && timer.at <= end).sort((x, y) => x.at - y.at)[0];
      if (!next) break;
      timers.splice(timers.indexOf(next), 1);
      now = next.at;
      next.fn();
    }
    now = end;
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { clock, advance, pending: () => timers.filter((timer) => !timer.cancelled).length };
}
