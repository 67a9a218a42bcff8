// Docker logs many events before its container list shows the change (a pause, an unpause, a
// network connect, a health status): after such an event, look again, backing off, until the list
// agrees with what the event says, then stop.
import type { Clock } from '../util/clock.js';
import type { ContainerSummary } from './container.js';
import type { DockerEvent } from './events.js';

/** What the list must show once it has caught up with an event. */
export interface Expectation {
  /** One expectation per container and aspect: a newer event replaces the older one's. */
  readonly key: string;
  holds(containers: readonly ContainerSummary[]): boolean;
}

/** Delays between looks after an event: 1.55 s in all, then the periodic re-list takes over. */
export const FOLLOW_UP_DELAYS_MS: readonly number[] = [50, 100, 200, 400, 800];

/** What the event promises the list will show; null when it promises nothing one can check. */
export function expectationOf(event: DockerEvent): Expectation | null {
  const id = event.containerId;
  if (id === null) return null;
  const find = (containers: readonly ContainerSummary[]) => containers.find((container) => container.id === id);
  if (event.type === 'network') {
    const network = event.attributes['name'];
    if (network === undefined) return null;
    const key = `${id} network ${network}`;
    if (event.action === 'connect') return { key, holds: (list) => (find(list)?.networks[network] ?? '') !== '' };
    if (event.action === 'disconnect') return { key, holds: (list) => (find(list)?.networks[network] ?? '') === '' };
    return null;
  }
  if (event.type !== 'container') return null;
  const state = `${id} state`;
  switch (event.action) {
    case 'start':
    case 'restart':
    case 'unpause':
      return { key: state, holds: (list) => find(list)?.state === 'running' };
    case 'pause':
      return { key: state, holds: (list) => find(list)?.state === 'paused' };
    case 'die':
    case 'stop':
    case 'destroy':
      // The list holds running (and paused) containers only.
      return { key: state, holds: (list) => !['running', 'paused'].includes(find(list)?.state ?? '') };
    case 'rename': {
      const name = event.attributes['name']?.replace(/^\//, '');
      return name === undefined ? null : { key: `${id} name`, holds: (list) => find(list)?.name === name };
    }
    default: {
      const health = /^health_status: (healthy|unhealthy|starting)$/.exec(event.action)?.[1];
      return health === undefined ? null : { key: `${id} health`, holds: (list) => find(list)?.health === health };
    }
  }
}

interface Pending {
  readonly expectation: Expectation;
  readonly since: number;
  /** Index of the next delay in the schedule. */
  step: number;
  /** When the next look is due. */
  dueAt: number;
}

export class FollowUps {
  private readonly pending = new Map<string, Pending>();
  private timer: { at: number; cancel(): void } | null = null;

  constructor(
    private readonly clock: Clock,
    /** Asks for a fresh list. */
    private readonly look: () => void,
    private readonly delays: readonly number[] = FOLLOW_UP_DELAYS_MS,
  ) {}

  /** Expectations not yet met, by key. */
  get keys(): string[] {
    return [...this.pending.keys()];
  }

  expect(expectation: Expectation): void {
    const now = this.clock.now();
    this.pending.set(expectation.key, { expectation, since: now, step: 0, dueAt: now + this.delays[0]! });
    this.arm();
  }

  /** After a list that was asked for at `askedAt`: drops what it shows, and moves the rest on if it was their look. */
  settle(containers: readonly ContainerSummary[], askedAt: number): void {
    for (const [key, entry] of this.pending) {
      if (entry.expectation.holds(containers)) {
        this.pending.delete(key);
      } else if (askedAt >= entry.dueAt) {
        entry.step++;
        if (entry.step >= this.delays.length) this.pending.delete(key);
        else entry.dueAt = entry.since + this.delays.slice(0, entry.step + 1).reduce((sum, ms) => sum + ms, 0);
      }
    }
    this.arm();
  }

  clear(): void {
    this.pending.clear();
    this.timer?.cancel();
    this.timer = null;
  }

  /** One timer, for the earliest look due. */
  private arm(): void {
    let next = Infinity;
    for (const entry of this.pending.values()) next = Math.min(next, entry.dueAt);
    if (this.timer && this.timer.at === next) return;
    this.timer?.cancel();
    this.timer = null;
    if (next === Infinity) return;
    const handle = this.clock.setTimeout(() => {
      this.timer = null;
      this.look();
    }, Math.max(0, next - this.clock.now()));
    this.timer = { at: next, cancel: () => handle.cancel() };
  }
}
