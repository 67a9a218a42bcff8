// Token buckets per client key: each holds up to `burst` tokens, refilled at `perSecond`; a
// request takes one. Pure apart from the clock it is given, and bounded in memory: a bucket that
// has refilled to full is the same as no bucket, so it is dropped; past `maxKeys` the least
// recently used bucket goes too (its client starts afresh: under such pressure forgetting one
// client is better than growing without end).
import { isIP } from 'node:net';
import { plainAddress } from '../util/ip.js';

export interface RateLimitSettings {
  /** Tokens added per second (10/m is 1/6). */
  readonly perSecond: number;
  /** Most tokens a bucket holds: the requests a quiet client may send at once. */
  readonly burst: number;
}

export type Take = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

export interface RateLimiterOptions {
  /** Milliseconds, monotonic; default performance.now. */
  readonly now?: () => number;
  /** Most buckets kept at once; default 10,000. */
  readonly maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

const ALLOWED: Take = { ok: true };
// Rates like 10/m are not exact in binary: a token 6 s away must not read as 6.000000001 s.
const EPSILON = 1e-9;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly maxKeys: number;
  /** Milliseconds an empty bucket takes to fill: any bucket idle that long is full. */
  private readonly fillMs: number;
  private lastSweep: number;

  constructor(
    readonly settings: RateLimitSettings,
    options: RateLimiterOptions = {},
  ) {
    if (!(settings.perSecond > 0) || !(settings.burst >= 1)) throw new RangeError('perSecond must be > 0 and burst >= 1');
    this.now = options.now ?? (() => performance.now());
    this.maxKeys = Math.max(1, options.maxKeys ?? 10_000);
    this.fillMs = (settings.burst / settings.perSecond) * 1000;
    this.lastSweep = this.now();
  }

  /** Takes a token for `key`, or says how many whole seconds until one is there (at least 1). */
  take(key: string): Take {
    const now = this.now();
    if (now - this.lastSweep >= this.fillMs) this.sweep(now);
    const { perSecond, burst } = this.settings;
    const bucket = this.buckets.get(key);
    let tokens = burst;
    if (bucket) {
      tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
      // Re-inserted so that the Map's order is least recently used first.
      this.buckets.delete(key);
    } else if (this.buckets.size >= this.maxKeys) {
      this.sweep(now);
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    }
    if (tokens >= 1 - EPSILON) {
      this.buckets.set(key, { tokens: Math.max(0, tokens - 1), at: now });
      return ALLOWED;
    }
    this.buckets.set(key, { tokens, at: now });
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perSecond - EPSILON)) };
  }

  /** Buckets held now (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  /** Drops every bucket that has refilled to full. */
  private sweep(now: number): void {
    this.lastSweep = now;
    const { perSecond, burst } = this.settings;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * perSecond >= burst) this.buckets.delete(key);
    }
  }
}

/**
 * The key a client is counted under: its address, IPv4-mapped IPv6 as IPv4, and IPv6 by its /64
 * (one host is usually given a whole /64, and could otherwise take a fresh address per request).
 */
export function clientKey(address: string): string {
  const plain = plainAddress(address);
  if (isIP(plain) !== 6) return plain;
  return ipv6Groups(plain).slice(0, 4).join(':') + '::/64';
}

/** The eight 16-bit groups of an IPv6 address, as lowercase hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  const zone = address.indexOf('%');
  let text = (zone === -1 ? address : address.slice(0, zone)).toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4 forms other than the mapped one) as two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const middle = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...middle, ...right].map((group) => parseInt(group, 16).toString(16));
}
