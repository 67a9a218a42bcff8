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
  private readonly exact: Map<string, Pool[]>;
  private readonly wildcard: Map<string, Pool[]>;
  private readonly anyHost: Pool[];

  private constructor(
    readonly version: number,
    readonly pools: readonly Pool[],
    /** What this table was built from, so the next build can redo only what changed. */
    private readonly built: BuiltFrom | null = null,
    /** The lookup maps, when the build made them from the previous table's. */
    index?: LookupIndex,
  ) {
    if (index) {
      this.exact = index.exact;
      this.wildcard = index.wildcard;
      this.anyHost = index.anyHost;
      return;
    }
    this.exact = new Map();
    this.wildcard = new Map();
    this.anyHost = [];
    for (const pool of pools) {
      if (pool.host === null) this.anyHost.push(pool);
      else if (isWildcard(pool.host)) pushTo(this.wildcard, pool.host.slice(1), pool);
      else pushTo(this.exact, pool.host, pool);
    }
    // Pools arrive sorted by descending path length, so each list is already longest-first.
  }

  /** The previous table's lookup maps with `gone` out and `come` in; only the lists they are in are made again. */
  private patchedIndex(gone: ReadonlySet<Pool>, come: readonly Pool[]): LookupIndex {
    const exact = new Map(this.exact);
    const wildcard = new Map(this.wildcard);
    let anyHost = this.anyHost;
    const lists = new Map<Map<string, Pool[]> | null, Set<string>>();
    const mark = (pool: Pool) => {
      const [map, key] = pool.host === null ? [null, ''] : isWildcard(pool.host) ? [wildcard, pool.host.slice(1)] : [exact, pool.host];
      const keys = lists.get(map) ?? new Set<string>();
      keys.add(key);
      lists.set(map, keys);
    };
    for (const pool of gone) mark(pool);
    for (const pool of come) mark(pool);
    const remade = (list: readonly Pool[], fits: (pool: Pool) => boolean) => [...list.filter((pool) => !gone.has(pool)), ...come.filter(fits)].sort(comparePools);
    for (const [map, keys] of lists) {
      if (map === null) {
        anyHost = remade(anyHost, (pool) => pool.host === null);
        continue;
      }
      for (const key of keys) {
        const list = remade(map.get(key) ?? [], (pool) => pool.host !== null && (map === wildcard ? isWildcard(pool.host) && pool.host.slice(1) === key : !isWildcard(pool.host) && pool.host === key));
        if (list.length > 0) map.set(key, list);
        else map.delete(key);
      }
    }
    return { exact, wildcard, anyHost };
  }

  static empty(): RouteTable {
    return new RouteTable(0, []);
  }

  /**
   * Builds a table from every source's specs. `sourceOrder` lists sources from strongest:
   * on the same host + path the strongest source wins and the others are reported.
   * With the previous table, pools whose specs are unchanged are kept as they are.
   */
  static build(specs: readonly RouteSpec[], sourceOrder: readonly string[], version: number, previous?: RouteTable, health: HealthOverlay = NO_FAILURES): TableBuild {
    const last = previous?.built ?? null;
    // Another order of sources could crown another winner: then nothing is kept.
    const reusable = last !== null && sameList(last.sourceOrder, sourceOrder);
    if (reusable && last.health === health && last.conflicts.length === 0) {
      const changed = RouteTable.buildChanged(specs, version, previous!, last);
      if (changed) return changed;
    }
    const before = new Map<string, Pool>();
    for (const pool of previous?.pools ?? []) before.set(pool.key, pool);
    const keys: string[] = new Array(specs.length);
    const groups = new Map<string, RouteSpec[]>();
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i]!;
      const key = poolKey(spec.host, spec.path);
      keys[i] = key;
      const group = groups.get(key);
      if (group) group.push(spec);
      else groups.set(key, [spec]);
    }
    const conflicts: Problem[] = [];
    const pools: Pool[] = [];
    for (const [key, group] of groups) {
      const carried = before.get(key);
      pools.push(poolOf(group, sourceOrder, health, carried, reusable && carried ? builtFrom.get(carried) : undefined, conflicts));
    }
    pools.sort(comparePools);
    return { table: new RouteTable(version, pools, { specs, keys, sourceOrder, health, conflicts }), conflicts };
  }

  /**
   * The build when the specs differ from the last ones in one span (a source's changed entries):
   * only the pools of the hosts and paths in that span are made again. Null when the span is
   * large, or when a pool it touches has a conflict (the full build orders and reports those).
   */
  private static buildChanged(specs: readonly RouteSpec[], version: number, previous: RouteTable, last: BuiltFrom): TableBuild | null {
    const old = last.specs;
    const shorter = Math.min(old.length, specs.length);
    let start = 0;
    while (start < shorter && old[start] === specs[start]) start++;
    let end = 0;
    while (end < shorter - start && old[old.length - 1 - end] === specs[specs.length - 1 - end]) end++;
    const removedCount = old.length - start - end;
    const addedCount = specs.length - start - end;
    if (removedCount + addedCount > Math.max(CHANGED_SPAN, specs.length >> 3)) return null;
    const keys: string[] = last.keys.slice(0, start);
    // The hosts and paths the span touches, each with its group of specs to come.
    const touched = new Map<string, { host: string | null; path: string; group: RouteSpec[] }>();
    for (let i = start; i < start + removedCount; i++) {
      const spec = old[i]!;
      touched.set(last.keys[i]!, { host: spec.host, path: spec.path, group: [] });
    }
    for (let i = start; i < start + addedCount; i++) {
      const spec = specs[i]!;
      const key = poolKey(spec.host, spec.path);
      keys.push(key);
      if (!touched.has(key)) touched.set(key, { host: spec.host, path: spec.path, group: [] });
    }
    for (let i = old.length - end; i < old.length; i++) keys.push(last.keys[i]!);
    // Each touched group in the order of the specs, as the full build groups them.
    for (let i = 0; i < specs.length; i++) touched.get(keys[i]!)?.group.push(specs[i]!);
    const conflicts: Problem[] = [];
    const gone = new Set<Pool>();
    const come: Pool[] = [];
    for (const { host, path, group } of touched.values()) {
      const carried = findPool(previous.pools, host, path);
      if (group.length === 0) {
        if (carried) gone.add(carried);
        continue;
      }
      const pool = poolOf(group, last.sourceOrder, last.health, carried, carried ? builtFrom.get(carried) : undefined, conflicts);
      if (conflicts.length > 0) return null;
      if (pool === carried) continue;
      if (carried) gone.add(carried);
      come.push(pool);
    }
    const pools = previous.pools.filter((pool) => !gone.has(pool));
    for (const pool of come) pools.splice(sortedPlace(pools, pool), 0, pool);
    const built = { specs, keys, sourceOrder: last.sourceOrder, health: last.health, conflicts };
    return { table: new RouteTable(version, pools, built, previous.patchedIndex(gone, come)), conflicts };
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

/** A build keeps up to this many changed specs (or an eighth of them all) to the pools they touch. */
const CHANGED_SPAN = 64;

interface PoolInputs {
  readonly specs: readonly RouteSpec[];
  readonly health: HealthOverlay;
}

/** What each pool was made from, while it lives (a kept pool goes from table to table). */
const builtFrom = new WeakMap<Pool, PoolInputs>();

interface LookupIndex {
  readonly exact: Map<string, Pool[]>;
  readonly wildcard: Map<string, Pool[]>;
  readonly anyHost: Pool[];
}

interface BuiltFrom {
  readonly specs: readonly RouteSpec[];
  /** poolKey of each spec, by position. */
  readonly keys: readonly string[];
  readonly sourceOrder: readonly string[];
  readonly health: HealthOverlay;
  readonly conflicts: readonly Problem[];
}

/**
 * The pool for one host + path from its specs (in the order given), reporting a conflict when
 * sources overlap. The pool it replaces is kept when its specs are the same (and, for a checked
 * pool, the health overlay too).
 */
function poolOf(group: readonly RouteSpec[], sourceOrder: readonly string[], health: HealthOverlay, carried: Pool | undefined, built: PoolInputs | undefined, conflicts: Problem[]): Pool {
  const first = group[0]!;
  const rank = (source: string) => {
    const index = sourceOrder.indexOf(source);
    return index === -1 ? sourceOrder.length : index;
  };
  const winner = group.length === 1 ? first.source : group.reduce((best, spec) => (rank(spec.source) < rank(best.source) ? spec : best)).source;
  const kept = group.length === 1 ? group : group.filter((spec) => spec.source === winner);
  if (kept.length < group.length) {
    const shadowed = group.filter((spec) => spec.source !== winner);
    conflicts.push({
      code: Codes.routeConflict,
      message: `${first.host ?? '*'}${first.path}: ${describe(kept)} wins over ${describe(shadowed)}`,
    });
  }
  // A kept pool keeps what it was made from: equal specs, and the same overlay if it is checked.
  if (carried && built && (built.health === health || !carried.behaviours?.spec.health) && sameList(built.specs, group)) return carried;
  const redirect = kept.find((spec) => spec.redirect)?.redirect ?? null;
  const behaviours = behavioursOf(kept, carried?.behaviours);
  // Most pools have one spec: nothing to dedupe or sort.
  const forwards = redirect ? [] : kept.length === 1 ? [kept[0]!.endpoint!] : uniqueByKey(kept.flatMap((spec) => (spec.endpoint ? [spec.endpoint] : []))).sort((a, b) => compare(a.key, b.key));
  const endpoints = withHealth(forwards, behaviours?.spec.health, first.host, health);
  const pool = new Pool(first.host, first.path, winner, endpoints, redirect, tlsOf(kept), behaviours, carried?.position, carried?.inFlight);
  builtFrom.set(pool, { specs: group, health });
  return pool;
}

/** The pool for host + path in a list in comparePools order. */
function findPool(pools: readonly Pool[], host: string | null, path: string): Pool | undefined {
  let low = 0;
  let high = pools.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    const pool = pools[middle]!;
    const order = compareRoutes(pool.host, pool.path, host, path);
    if (order === 0) return pool;
    if (order < 0) low = middle + 1;
    else high = middle;
  }
  return undefined;
}

/** Where `pool` goes in a list in comparePools order. */
function sortedPlace(pools: readonly Pool[], pool: Pool): number {
  let low = 0;
  let high = pools.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (comparePools(pools[middle]!, pool) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
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

/** Longest path first (what lookup needs), then host and path for a stable order. Every table's pools are in it. */
export function comparePools(a: Pool, b: Pool): number {
  return compareRoutes(a.host, a.path, b.host, b.path);
}

function compareRoutes(hostA: string | null, pathA: string, hostB: string | null, pathB: string): number {
  return pathB.length - pathA.length || compare(hostA ?? '', hostB ?? '') || compare(pathA, pathB);
}
