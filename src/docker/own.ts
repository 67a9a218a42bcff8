// berth's own container, when it runs in one: found from what the process can see of itself, behind
// an interface so that the snapshot is tested without a container around it.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ContainerSummary, OwnPlacement } from './container.js';

export interface OwnContainerLocator {
  /** Ids or id prefixes that may be berth's own container, surest first; empty outside a container. */
  candidates(): readonly string[];
}

/**
 * The container whose folder holds the /etc/hostname mounted here (found whatever --hostname
 * says), else the one whose short id is the hostname (Docker's default hostname).
 */
export function processLocator(): OwnContainerLocator {
  let found: readonly string[] | undefined;
  return {
    candidates() {
      const host = hostname();
      found ??= [mountedContainerId(), /^[0-9a-f]{12}$/.test(host) ? host : null].filter((id): id is string => id !== null);
      return found;
    },
  };
}

/** A locator that names the given ids; none means "berth runs on the host". */
export function fixedLocator(...ids: string[]): OwnContainerLocator {
  return { candidates: () => ids };
}

/** The first candidate found in the list. */
export function findOwn(containers: readonly ContainerSummary[], candidates: readonly string[]): ContainerSummary | null {
  for (const id of candidates) {
    const own = containers.find((container) => container.id.startsWith(id));
    if (own) return own;
  }
  return null;
}

/**
 * Where berth's container stands: the networks it can reach containers on (with --network host
 * none, as it reaches them as a process on the host would) and its way to the host itself.
 */
export function placementOf(own: ContainerSummary): OwnPlacement {
  if (own.networkMode === 'host') return { name: own.name, networks: [], hostAddress: '127.0.0.1' };
  const networks = Object.keys(own.networks).filter((name) => own.networks[name] !== '').sort();
  // Any gateway reaches the host; the first by name keeps the choice stable.
  const gateway = networks.map((name) => own.gateways?.[name] ?? '').find((address) => address !== '');
  return { name: own.name, networks, hostAddress: gateway ?? null };
}

/** The id in `.../containers/<id>/hostname`, mounted on /etc/hostname by Docker; null outside a container. */
function mountedContainerId(): string | null {
  try {
    return /\/containers\/([0-9a-f]{64})\/hostname /.exec(readFileSync('/proc/self/mountinfo', 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}
