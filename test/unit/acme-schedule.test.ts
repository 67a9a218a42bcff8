import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Codes } from '../../src/errors.js';
import {
  beginAttempt,
  groupKey,
  isDue,
  MAX_RETRY_MS,
  mayTry,
  normalizeGroups,
  plan,
  recordFailure,
  renewAt,
  retryDelayMs,
  type Hold,
  type Validity,
} from '../../src/acme/schedule.js';

const DAY = 24 * 3600_000;
const MIN = 60_000;
const t0 = Date.parse('2030-01-01T00:00:00Z');
const cert = (names: string[], fromDays: number, lifetimeDays: number): Validity => ({
  names,
  notBefore: new Date(t0 + fromDays * DAY),
  notAfter: new Date(t0 + (fromDays + lifetimeDays) * DAY),
});

describe('renewAt', () => {
  const cases: { lifetimeDays: number; renewAfterDays: number }[] = [
    { lifetimeDays: 90, renewAfterDays: 60 },
    { lifetimeDays: 64, renewAfterDays: 64 - 64 / 3 },
    { lifetimeDays: 45, renewAfterDays: 30 },
    { lifetimeDays: 6, renewAfterDays: 4 },
    { lifetimeDays: 5 * 365, renewAfterDays: (5 * 365 * 2) / 3 },
  ];
  for (const { lifetimeDays, renewAfterDays } of cases) {
    it(`renews a ${lifetimeDays}-day certificate after ${renewAfterDays.toFixed(2)} days, with a third left`, () => {
      const c = cert(['a.example.com'], 0, lifetimeDays);
      assert.equal(renewAt(c).getTime(), Math.round(t0 + renewAfterDays * DAY));
      assert.equal(isDue(c, renewAt(c).getTime() - 1), false);
      assert.equal(isDue(c, renewAt(c).getTime()), true);
    });
  }

  it('is due at once for a certificate whose notAfter is not after its notBefore', () => {
    const c = { notBefore: new Date(t0), notAfter: new Date(t0) };
    assert.equal(isDue(c, t0), true);
  });
});

describe('retryDelayMs', () => {
  const cases: { failures: number; random: number; minutes: number }[] = [
    { failures: 1, random: 0, minutes: 5 },
    { failures: 2, random: 0, minutes: 10 },
    { failures: 3, random: 0, minutes: 20 },
    { failures: 4, random: 0, minutes: 40 },
    { failures: 5, random: 0, minutes: 60 },
    { failures: 50, random: 0, minutes: 60 },
    { failures: 1, random: 0.999999, minutes: 5.5 },
    { failures: 9, random: 1, minutes: 66 },
  ];
  for (const { failures, random, minutes } of cases) {
    it(`waits ${minutes} min after ${failures} failure(s) with jitter ${random}`, () => {
      assert.equal(Math.round(retryDelayMs(failures, () => random) / 1000), Math.round(minutes * 60));
    });
  }

  it('never tries five times within an hour, whatever the jitter', () => {
    for (const random of [0, 0.5, 1]) {
      let at = 0;
      const attempts = [0];
      for (let failures = 1; failures < 30; failures++) attempts.push((at += retryDelayMs(failures, () => random)));
      for (let i = 0; i + 4 < attempts.length; i++) assert.ok(attempts[i + 4]! - attempts[i]! > 60 * MIN, `attempts ${i}..${i + 4}`);
    }
  });

  it('stays finite and capped after very many failures', () => {
    assert.equal(retryDelayMs(10_000, () => 0), MAX_RETRY_MS);
  });
});

describe('holds', () => {
  it('counts an attempt as a failure before it starts, and keeps the last error until a new one', () => {
    const first = beginAttempt(undefined, ['a.example.com'], 'https://ca/dir', t0, () => 0);
    assert.deepEqual(first, {
      names: ['a.example.com'],
      directoryUrl: 'https://ca/dir',
      failures: 1,
      lastTryAt: new Date(t0).toISOString(),
      nextTryAt: new Date(t0 + 5 * MIN).toISOString(),
      lastError: null,
    });
    const failed = recordFailure(first, { code: Codes.acmeOrder, message: 'no' });
    assert.equal(mayTry(failed, t0 + 5 * MIN - 1), false);
    assert.equal(mayTry(failed, t0 + 5 * MIN), true);
    const second = beginAttempt(failed, failed.names, failed.directoryUrl, t0 + 5 * MIN, () => 0);
    assert.equal(second.failures, 2);
    assert.equal(second.nextTryAt, new Date(t0 + 15 * MIN).toISOString());
    assert.deepEqual(second.lastError, { code: Codes.acmeOrder, message: 'no' });
  });

  it('lets a group with no hold try at once', () => {
    assert.equal(mayTry(undefined, t0), true);
  });
});

describe('normalizeGroups', () => {
  const cases: { name: string; input: string[][]; groups: string[][]; refused: string[] }[] = [
    { name: 'lowercases, trims, dedupes and sorts', input: [['B.example.com', ' a.example.com', 'b.example.com.']], groups: [['a.example.com', 'b.example.com']], refused: [] },
    { name: 'keeps equal groups once', input: [['a.example.com'], ['A.example.com']], groups: [['a.example.com']], refused: [] },
    { name: 'keeps different groups apart', input: [['b.example.com'], ['a.example.com', 'b.example.com']], groups: [['a.example.com', 'b.example.com'], ['b.example.com']], refused: [] },
    {
      name: 'refuses wildcards, IPs and dotless names, once each',
      input: [['*.example.com', 'a.example.com', '10.0.0.1'], ['localhost'], ['localhost', '[::1]']],
      groups: [['a.example.com']],
      refused: ['*.example.com', '10.0.0.1', 'localhost', '[::1]'],
    },
    { name: 'drops an empty group', input: [[], ['']], groups: [], refused: [] },
  ];
  for (const { name, input, groups, refused } of cases) {
    it(name, () => {
      const result = normalizeGroups(input);
      assert.deepEqual(result.groups, groups);
      assert.deepEqual(result.problems.map((p) => /^no ACME certificate for (\S+):/.exec(p.message)?.[1]), refused);
      assert.ok(result.problems.every((p) => p.code === Codes.acmeName));
    });
  }

  it('splits a group of more than 100 names', () => {
    const names = Array.from({ length: 150 }, (_, i) => `h${String(i).padStart(3, '0')}.example.com`);
    assert.deepEqual(normalizeGroups([names]).groups.map((g) => g.length), [100, 50]);
  });
});

describe('groupKey', () => {
  it('is the name for one name, and the first name with a stable hash for more', () => {
    assert.equal(groupKey(['a.example.com']), 'a.example.com');
    assert.match(groupKey(['a.example.com', 'b.example.com']), /^a\.example\.com\+1-[0-9a-f]{12}$/);
    assert.equal(groupKey(['a.example.com', 'b.example.com']), groupKey(['a.example.com', 'b.example.com']));
    assert.notEqual(groupKey(['a.example.com', 'b.example.com']), groupKey(['a.example.com', 'c.example.com']));
  });
});

describe('plan', () => {
  const hold = (names: string[], nextTryAt: number): Hold => ({
    names,
    directoryUrl: 'https://ca/dir',
    failures: 1,
    lastTryAt: new Date(t0).toISOString(),
    nextTryAt: new Date(nextTryAt).toISOString(),
    lastError: { code: Codes.acmeOrder, message: 'x' },
  });
  const a = ['a.example.com'];
  const ab = ['a.example.com', 'b.example.com'];
  const cases: {
    name: string;
    groups: string[][];
    certs: Validity[];
    holds?: [string[], number][];
    now: number;
    due: [string, 'new' | 'renew'][];
    held?: string[];
    wakeAt?: number;
  }[] = [
    { name: 'orders a group with no certificate', groups: [a], certs: [], now: t0, due: [['a.example.com', 'new']] },
    { name: 'waits for a valid certificate until it is due', groups: [a], certs: [cert(a, 0, 90)], now: t0 + DAY, due: [], wakeAt: t0 + 60 * DAY },
    { name: 'renews a due certificate', groups: [a], certs: [cert(a, 0, 90)], now: t0 + 61 * DAY, due: [['a.example.com', 'renew']] },
    { name: 'orders anew when the certificate expired', groups: [a], certs: [cert(a, 0, 90)], now: t0 + 91 * DAY, due: [['a.example.com', 'new']] },
    { name: 'counts a certificate covering more names', groups: [a], certs: [cert(ab, 0, 90)], now: t0, due: [], wakeAt: t0 + 60 * DAY },
    { name: 'orders a group a certificate covers only in part', groups: [ab], certs: [cert(a, 0, 90)], now: t0, due: [[groupKey(ab), 'new']] },
    { name: 'uses the longest-lived covering certificate', groups: [a], certs: [cert(a, -80, 90), cert(a, 0, 90)], now: t0, due: [], wakeAt: t0 + 60 * DAY },
    { name: 'holds a failed group until its next try', groups: [a], certs: [], holds: [[a, t0 + 5 * MIN]], now: t0 + MIN, due: [], held: ['a.example.com'], wakeAt: t0 + 5 * MIN },
    { name: 'tries a held group once its hold ends', groups: [a], certs: [], holds: [[a, t0 + 5 * MIN]], now: t0 + 5 * MIN, due: [['a.example.com', 'new']] },
    {
      name: 'keeps serving a due certificate while its renewal is held',
      groups: [a],
      certs: [cert(a, 0, 90)],
      holds: [[a, t0 + 61 * DAY]],
      now: t0 + 60 * DAY,
      due: [],
      held: ['a.example.com'],
      wakeAt: t0 + 61 * DAY,
    },
    {
      name: 'orders new groups before renewals',
      groups: [['a.example.com'], ['c.example.com']],
      certs: [cert(['a.example.com'], 0, 90)],
      now: t0 + 70 * DAY,
      due: [['c.example.com', 'new'], ['a.example.com', 'renew']],
    },
    { name: 'does nothing for no groups', groups: [], certs: [cert(a, 0, 90)], now: t0, due: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const holds = new Map((c.holds ?? []).map(([names, at]) => [groupKey(names), hold(names, at)]));
      const result = plan(c.groups, c.certs, holds, c.now);
      assert.deepEqual(result.due.map((d) => [d.key, d.reason]), c.due);
      assert.deepEqual(result.held.map((h) => h.key), c.held ?? []);
      assert.equal(result.wakeAt, c.wakeAt);
    });
  }
});
