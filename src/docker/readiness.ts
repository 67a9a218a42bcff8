// Whether a container may take new requests: running, healthy if it has a healthcheck, not stopping.
import type { ContainerSummary, Readiness } from './container.js';

export function readiness(container: ContainerSummary, stopping: boolean): Readiness {
  if (container.state !== 'running') return `container is ${container.state}`;
  if (stopping) return 'container is stopping';
  if (container.health === 'unhealthy') return 'health check failing';
  if (container.health === 'starting') return 'health check starting';
  return null;
}

/** Reads the health from Docker's status text, e.g. `Up 2 minutes (health: starting)`. */
export function healthFromStatus(status: string): string | null {
  const match = /\((healthy|unhealthy|health: starting)\)/.exec(status);
  if (!match) return null;
  return match[1] === 'health: starting' ? 'starting' : match[1]!;
}
