// Choosing an endpoint among a pool's ready ones: pure functions of the list, a cursor and counts,
// so the rules are tested without a table. Round robin stays inline in Pool.pick (the hot path).
import { createHash } from 'node:crypto';
import type { Endpoint } from './types.js';

/**
 * The ready endpoint with the fewest requests in flight, skipping `avoid` when another exists.
 * Ties go in turn from `start`, so equal endpoints share the load as round robin would.
 */
export function leastConnected(ready: readonly Endpoint[], inFlight: (endpoint: Endpoint) => number, start: number, avoid?: Endpoint): Endpoint | undefined {
  const count = ready.length;
  let best: Endpoint | undefined;
  let fewest = Infinity;
  for (let i = 0; i < count; i++) {
    const endpoint = ready[(start + i) % count]!;
    if (count > 1 && endpoint.key === avoid?.key) continue;
    const load = inFlight(endpoint);
    if (load < fewest) {
      best = endpoint;
      fewest = load;
    }
  }
  return best;
}

/** A uniformly random ready endpoint, other than `avoid` when another exists. `random` is in [0, 1). */
export function randomly(ready: readonly Endpoint[], random: () => number, avoid?: Endpoint): Endpoint | undefined {
  const count = ready.length;
  if (count === 0) return undefined;
  const others = count > 1 && avoid !== undefined ? ready.filter((endpoint) => endpoint.key !== avoid.key) : ready;
  const from = others.length > 0 ? others : ready;
  return from[Math.min(from.length - 1, Math.floor(random() * from.length))];
}

/**
 * The cookie value that names an endpoint: a digest of its key, so a client learns neither a
 * container id nor an internal address, and the same endpoint gets the same id in every process.
 */
export function stickyIdOf(endpoint: Endpoint): string {
  let id = stickyIds.get(endpoint);
  if (id === undefined) {
    id = createHash('sha256').update(endpoint.key).digest('base64url').slice(0, 16);
    stickyIds.set(endpoint, id);
  }
  return id;
}

// Endpoints are immutable and shared by every table they stay in: one digest each.
const stickyIds = new WeakMap<Endpoint, string>();
