// When to order, renew and retry: pure functions of certificates, holds and the time.
//
// Renewal is due when a third of a certificate's own lifetime is left, so it works for
// Let's Encrypt's 90-day certificates, shorter profiles (64, 45, 6 days) and other CAs' long ones.
//
// Failed orders back off per host group: 5 min, doubling to 1 h, never sooner (jitter only adds).
// Any five consecutive attempts are then at least 5+10+20+40 = 75 min apart, so berth cannot
// reach Let's Encrypt's 5 failed validations per host per hour. The hold is written before each
// attempt (counting it as failed until it succeeds), so a process that crashes mid-order, or
// restarts in a loop, waits just the same.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { Codes } from '../errors.js';
import type { Problem } from '../routes/types.js';

export const FIRST_RETRY_MS = 5 * 60_000;
export const MAX_RETRY_MS = 60 * 60_000;
/** Let's Encrypt's largest number of names in one certificate. */
export const MAX_NAMES = 100;

/** The stored back-off of one host group, persisted across restarts. */
export interface Hold {
  /** The host group, normalized (see normalizeGroups). */
  readonly names: readonly string[];
  readonly directoryUrl: string;
  /** Attempts that did not end in a stored certificate, the one under way included. */
  readonly failures: number;
  readonly lastTryAt: string;
  readonly nextTryAt: string;
  readonly lastError: { readonly code: string; readonly message: string } | null;
}

/** What the schedule needs of a certificate berth holds. */
export interface Validity {
  readonly names: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** When renewal is due: a third of the lifetime before notAfter. */
export function renewAt(cert: Pick<Validity, 'notBefore' | 'notAfter'>): Date {
  const lifetime = Math.max(0, cert.notAfter.getTime() - cert.notBefore.getTime());
  return new Date(cert.notAfter.getTime() - lifetime / 3);
}

export function isDue(cert: Pick<Validity, 'notBefore' | 'notAfter'>, now: number): boolean {
  return now >= renewAt(cert).getTime();
}

/** The wait after the n-th failure (n >= 1); random() in [0, 1) adds up to 10 %. */
export function retryDelayMs(failures: number, random: () => number = Math.random): number {
  const steps = Math.max(0, Math.min(failures - 1, 16));
  const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** steps);
  return Math.round(base * (1 + 0.1 * Math.min(Math.max(random(), 0), 1)));
}

/** The hold written before an attempt: it counts as failed until its certificate is stored. */
export function beginAttempt(previous: Hold | undefined, names: readonly string[], directoryUrl: string, now: number, random?: () => number): Hold {
  const failures = (previous?.failures ?? 0) + 1;
  return {
    names,
    directoryUrl,
    failures,
    lastTryAt: new Date(now).toISOString(),
    nextTryAt: new Date(now + retryDelayMs(failures, random)).toISOString(),
    lastError: previous?.lastError ?? null,
  };
}

export function recordFailure(hold: Hold, error: { code: string; message: string }): Hold {
  return { ...hold, lastError: { code: error.code, message: error.message } };
}

export function mayTry(hold: Hold | undefined, now: number): boolean {
  return hold === undefined || now >= Date.parse(hold.nextTryAt);
}

/** Why a name cannot have an ACME certificate over http-01 or tls-alpn-01, or undefined. */
export function unorderable(name: string): string | undefined {
  if (name.includes('*')) return 'a wildcard needs dns-01, which berth does not do';
  if (isIP(name.replace(/^\[|\]$/g, '')) !== 0) return 'an IP address';
  if (!name.includes('.')) return 'a name without a dot (the CA cannot resolve it)';
  if (name.endsWith('.localhost') || name.endsWith('.local') || name.endsWith('.internal')) return 'a name no public CA validates';
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(name)) return 'not a DNS name';
  return undefined;
}

/**
 * The wanted groups, each lowercased, deduplicated and sorted; names ACME cannot validate left
 * out with a problem; groups over 100 names split; equal groups once.
 */
export function normalizeGroups(groups: readonly (readonly string[])[]): { groups: string[][]; problems: Problem[] } {
  const problems: Problem[] = [];
  const refused = new Set<string>();
  const seen = new Map<string, string[]>();
  for (const group of groups) {
    const names = [...new Set(group.map((name) => name.trim().toLowerCase().replace(/\.$/, '')).filter((name) => name !== ''))].sort();
    const kept = names.filter((name) => {
      const why = unorderable(name);
      if (why === undefined) return true;
      if (!refused.has(name)) {
        refused.add(name);
        problems.push({ code: Codes.acmeName, message: `no ACME certificate for ${name}: ${why}`, fix: 'serve it with a certificate from the certificates folder' });
      }
      return false;
    });
    for (let i = 0; i < kept.length; i += MAX_NAMES) {
      const chunk = kept.slice(i, i + MAX_NAMES);
      seen.set(chunk.join(','), chunk);
    }
  }
  return { groups: [...seen.values()].sort((a, b) => a.join(',').localeCompare(b.join(','))), problems };
}

/** A file-system-safe, stable name for a host group: the name itself, or the first name and a hash. */
export function groupKey(names: readonly string[]): string {
  if (names.length === 1) return names[0]!;
  const hash = createHash('sha256').update(names.join(',')).digest('hex').slice(0, 12);
  return `${names[0]}+${names.length - 1}-${hash}`;
}

/** The certificate that serves a group: covering every name, not expired, the longest-lived. */
export function coveringCertificate<T extends Validity>(names: readonly string[], certs: readonly T[], now: number): T | undefined {
  let best: T | undefined;
  for (const cert of certs) {
    if (cert.notAfter.getTime() <= now || cert.notBefore.getTime() > now) continue;
    if (!names.every((name) => cert.names.includes(name))) continue;
    if (!best || cert.notAfter > best.notAfter) best = cert;
  }
  return best;
}

export type PlanReason = 'new' | 'renew';

export interface Plan {
  /** Groups to order now, in a stable order: first those with no certificate at all. */
  readonly due: readonly { readonly names: readonly string[]; readonly key: string; readonly reason: PlanReason }[];
  /** Groups waiting on their hold. */
  readonly held: readonly { readonly key: string; readonly until: number }[];
  /** The earliest time something becomes due (a renewal or a hold's end), if any. */
  readonly wakeAt: number | undefined;
}

/** What to order now and when to look again, from the wanted groups, what is held and the holds. */
export function plan(groups: readonly (readonly string[])[], certs: readonly Validity[], holds: ReadonlyMap<string, Hold>, now: number): Plan {
  const due: { names: readonly string[]; key: string; reason: PlanReason }[] = [];
  const held: { key: string; until: number }[] = [];
  let wakeAt: number | undefined;
  const wake = (at: number) => (wakeAt = wakeAt === undefined ? at : Math.min(wakeAt, at));
  for (const names of groups) {
    const key = groupKey(names);
    const cert = coveringCertificate(names, certs, now);
    if (cert && !isDue(cert, now)) {
      wake(renewAt(cert).getTime());
      continue;
    }
    const hold = holds.get(key);
    if (!mayTry(hold, now)) {
      const until = Date.parse(hold!.nextTryAt);
      held.push({ key, until });
      wake(until);
      continue;
    }
    due.push({ names, key, reason: cert ? 'renew' : 'new' });
  }
  due.sort((a, b) => (a.reason === b.reason ? 0 : a.reason === 'new' ? -1 : 1));
  return { due, held, wakeAt };
}
