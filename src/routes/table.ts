// The immutable route table: built once from route specs, then only read.
// Lookup: exact host, then wildcards from the longest suffix, then any-host routes;
// within a host, the longest path prefix on a segment boundary.
import { Codes } from '../errors.js';
import { isWildcard } from './host.js';
import { matchesPrefix } from './path.js';
import { compileBehaviours, type RouteBehaviours } from '../behaviours/pipeline.js';
import { canonicalJson } from '../util/digest.js';
import type { Balance } from '../behaviours/spec.js';
import { NO_FAILURES, withHealth, type HealthOverlay } from '../health/overlay.js';
import { leastConnected, randomly, stickyIdOf } from './balance.js';
import { sameList } from './same.js';
import type { Endpoint, Problem, Redirect, RouteSpec, RouteTls } from './types.js';

/** Releases what `Pool.acquire` counted; calling it again does nothing. */
export type Release = () => void;
const NOTHING_TO_RELEASE: Release = () => {};

/** All endpoints for one host + path, balanced over the ready ones (round robin unless the route's `lb` says otherwise). */
export class Pool {
  readonly ready: readonly Endpoint[];
  readonly balance: Balance;
  /** Clients are pinned to an endpoint with the `berth_sticky` cookie. */
  readonly sticky: boolean;
  private stickyIds: Map<string, Endpoint> | null = null;
  /** `host path`: the pool's identity across tables. */
  readonly key: string;

  constructor(
    readonly host: string | null,
    readonly path: string,
    readonly source: string,
    readonly endpoints: readonly Endpoint[],
    /** When set, the pool answers with this redirect and has no endpoints. */
    readonly redirect: Redirect | null,
    /** Set when the route is served over HTTPS. */
    readonly tls: RouteTls | null,
    /** Compiled once per process; carried over swaps while the spec is unchanged (buckets, logins). */
    readonly behaviours: RouteBehaviours | null,
    /** Carried over from the previous table, so frequent swaps keep the rotation fair. */
    private cursor = 0,
    /**
     * Requests in flight per endpoint key (least-conn only). The same map is handed from table to
     * table, so a request acquired on an old table is released where the new one counts.
     */
    readonly inFlight: Map<string, number> = new Map(),
    private readonly random: () => number = Math.random,
  ) {
    this.ready = endpoints.filter((endpoint) => endpoint.ready);
    this.balance = behaviours?.spec.lb ?? 'round-robin';
    this.sticky = behaviours?.spec.sticky === true;
    this.key = poolKey(host, path);
  }

  get position(): number {
    return this.cursor;
  }

  /**
   * The next ready endpoint, skipping `avoid` (by key, so across tables) when another one exists.
   * `stickyId` (a `berth_sticky` cookie value) picks its endpoint when the route is sticky and that
   * endpoint is still ready; otherwise the route's balance picks.
   */
  pick(avoid?: Endpoint, stickyId?: string): Endpoint | undefined {
    const count = this.ready.length;
    if (count === 0) return undefined;
    if (stickyId !== undefined && this.sticky) {
      const pinned = this.byStickyId(stickyId);
      if (pinned && (pinned.key !== avoid?.key || count === 1)) return pinned;
    }
    if (this.balance === 'least-conn') return leastConnected(this.ready, (endpoint) => this.inFlight.get(endpoint.key) ?? 0, this.cursor++ % count, avoid);
    if (this.balance === 'random') return randomly(this.ready, this.random, avoid);
    for (let i = 0; i < count; i++) {
      const endpoint = this.ready[this.cursor++ % count]!;
      if (endpoint.key !== avoid?.key || count === 1) return endpoint;
    }
    return undefined;
  }

  /**
   * Counts a request (or a WebSocket) as in flight on `endpoint` until the returned function is
   * called. Only least-conn pools count; the others get a function that does nothing.
   */
  acquire(endpoint: Endpoint): Release {
    if (this.balance !== 'least-conn') return NOTHING_TO_RELEASE;
    const counts = this.inFlight;
    const key = endpoint.key;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = (counts.get(key) ?? 1) - 1;
      // Deleted at zero, so endpoints that come and go leave nothing behind.
      if (left > 0) counts.set(key, left);
      else counts.delete(key);
    };
  }

  /** The `berth_sticky` value that pins a client to `endpoint`. */
  stickyIdOf(endpoint: Endpoint): string {
    return stickyIdOf(endpoint);
  }

  /** The ready endpoint a `berth_sticky` value names, if any. */
  byStickyId(id: string): Endpoint | undefined {
    // Built on the first sticky request a table sees: tables of routes without sticky never pay.
    this.stickyIds ??= new Map(this.ready.map((endpoint) => [stickyIdOf(endpoint), endpoint]));
    return this.stickyIds.get(id);
  }
}

export interface TableBuild {
  readonly table: RouteTable;
  /** Routes shadowed by a higher-priority source on the same host + path. */
  readonly conflicts: readonly Problem[];
}

export class RouteTable {
  private readonly exact = new Map<string, Pool[]>();
  private readonly wildcard = new Map<string, Pool[]>();
  private readonly anyHost: Pool[] = [];

  private constructor(
    readonly version: number,
    readonly pools: readonly Pool[],
    /** What each pool was built from, so the next build can keep the pools whose inputs are unchanged. */
    private readonly inputs: ReadonlyMap<Pool, PoolInputs> = new Map(),
    private readonly sourceOrder: readonly string[] = [],
  ) {
    for (const pool of pools) {
      if (pool.host === null) this.anyHost.push(pool);
      else if (isWildcard(pool.host)) pushTo(this.wildcard, pool.host.slice(1), pool);
      else pushTo(this.exact, pool.host, pool);
    }
    // Pools arrive sorted by descending path length, so each list is already longest-first.
  }

  static empty(): RouteTable {
    return new RouteTable(0, []);
  }

  /**
   * Builds a table from every source's specs. `sourceOrder` lists sources from strongest:
   * on the same host + path the strongest source wins and the others are reported.
   */
  static build(specs: readonly RouteSpec[], sourceOrder: readonly string[], version: number, previous?: RouteTable, health: HealthOverlay = NO_FAILURES): TableBuild {
    const before = new Map<string, Pool>();
    for (const pool of previous?.pools ?? []) before.set(pool.key, pool);
    const groups = new Map<string, RouteSpec[]>();
    for (const spec of specs) {
      const key = poolKey(spec.host, spec.path);
      const group = groups.get(key);
      if (group) group.push(spec);
      else groups.set(key, [spec]);
    }
    const rank = (source: string) => {
      const index = sourceOrder.indexOf(source);
      return index === -1 ? sourceOrder.length : index;
    };
    const conflicts: Problem[] = [];
    const pools: Pool[] = [];
    const inputs = new Map<Pool, PoolInputs>();
    // Another order of sources could crown another winner: then nothing is kept.
    const reusable = previous !== undefined && sameList(previous.sourceOrder, sourceOrder);
    for (const [key, group] of groups) {
      const first = group[0]!;
      const winner = group.length === 1 ? first.source : group.reduce((best, spec) => (rank(spec.source) < rank(best.source) ? spec : best)).source;
      const kept = group.length === 1 ? group : group.filter((spec) => spec.source === winner);
      if (kept.length < group.length) {
        const shadowed = group.filter((spec) => spec.source !== winner);
        conflicts.push({
          code: Codes.routeConflict,
          message: `${first.host ?? '*'}${first.path}: ${describe(kept)} wins over ${describe(shadowed)}`,
        });
      }
      const carried = before.get(key);
      const built = reusable && carried ? previous.inputs.get(carried) : undefined;
      // The same specs (and, for a checked pool, the same health overlay) make the same pool: keep it.
      if (carried && built && (built.health === health || !carried.behaviours?.spec.health) && sameList(built.specs, group)) {
        pools.push(carried);
        inputs.set(carried, { specs: group, health });
        continue;
      }
      const redirect = kept.find((spec) => spec.redirect)?.redirect ?? null;
      const forwards = redirect ? [] : kept.flatMap((spec) => (spec.endpoint ? [spec.endpoint] : []));
      const behaviours = behavioursOf(kept, carried?.behaviours);
      const endpoints = withHealth(uniqueByKey(forwards).sort((a, b) => compare(a.key, b.key)), behaviours?.spec.health, first.host, health);
      const pool = new Pool(first.host, first.path, winner, endpoints, redirect, tlsOf(kept), behaviours, carried?.position, carried?.inFlight);
      pools.push(pool);
      inputs.set(pool, { specs: group, health });
    }
    pools.sort(comparePools);
    return { table: new RouteTable(version, pools, inputs, sourceOrder), conflicts };
  }

  /** The pool for a normalised host and a request path, or undefined. */
  match(host: string, path: string): Pool | undefined {
    const exact = this.exact.get(host);
    if (exact) {
      const pool = longestPrefix(exact, path);
      if (pool) return pool;
    }
    if (this.wildcard.size > 0) {
      for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
        const pools = this.wildcard.get(host.slice(dot));
        const pool = pools && longestPrefix(pools, path);
        if (pool) return pool;
      }
    }
    return longestPrefix(this.anyHost, path);
  }
}

interface PoolInputs {
  readonly specs: readonly RouteSpec[];
  readonly health: HealthOverlay;
}

/**
 * One set of behaviours for a pool: a closed one wins (a replica whose access settings cannot be
 * read must not leave the others open), else the first one given. Reused when unchanged.
 */
function behavioursOf(specs: readonly RouteSpec[], previous: RouteBehaviours | null | undefined): RouteBehaviours | null {
  const given = specs.flatMap((spec) => (spec.behaviours ? [spec.behaviours] : []));
  if (given.length === 0) return null;
  const spec = given.find((one) => one.failClosed) ?? given[0]!;
  if (previous && canonicalJson(previous.spec) === canonicalJson(spec)) return previous;
  return compileBehaviours(spec);
}

/** One HTTPS policy for a pool: HTTPS if any spec asks, a redirect unless one opts out, the first HSTS given. */
function tlsOf(specs: readonly RouteSpec[]): RouteTls | null {
  const asked = specs.flatMap((spec) => (spec.tls ? [spec.tls] : []));
  if (asked.length === 0) return null;
  return { redirect: asked.every((tls) => tls.redirect), hsts: asked.find((tls) => tls.hsts !== null)?.hsts ?? null, explicit: asked.some((tls) => tls.explicit) };
}

export function poolKey(host: string | null, path: string): string {
  return `${host ?? '*'} ${path}`;
}

function longestPrefix(pools: readonly Pool[], path: string): Pool | undefined {
  for (const pool of pools) if (matchesPrefix(path, pool.path)) return pool;
  return undefined;
}

function pushTo(map: Map<string, Pool[]>, key: string, pool: Pool): void {
  const list = map.get(key);
  if (list) list.push(pool);
  else map.set(key, [pool]);
}

function uniqueByKey(endpoints: Endpoint[]): Endpoint[] {
  const seen = new Map<string, Endpoint>();
  for (const endpoint of endpoints) if (!seen.has(endpoint.key)) seen.set(endpoint.key, endpoint);
  return [...seen.values()];
}

function describe(specs: readonly RouteSpec[]): string {
  const names = specs.map((spec) => `${spec.source} ${originOf(spec)}`);
  return [...new Set(names)].join(', ');
}

/** Who declared a route, for people: a container name or a file position. */
export function originOf(spec: RouteSpec): string {
  if (spec.redirect) return spec.redirect.origin;
  return spec.endpoint.container?.name ?? spec.endpoint.origin ?? spec.endpoint.key;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Longest path first (what lookup needs), then host and path for a stable order. */
function comparePools(a: Pool, b: Pool): number {
  return b.path.length - a.path.length || compare(a.host ?? '', b.host ?? '') || compare(a.path, b.path);
}
