import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clientKey, RateLimiter, type Take } from '../../src/behaviours/rate-limit.js';

function limiter(perSecond: number, burst: number, maxKeys?: number) {
  let now = 0;
  const bucket = new RateLimiter({ perSecond, burst }, { now: () => now, ...(maxKeys ? { maxKeys } : {}) });
  return { bucket, at: (ms: number) => void (now = ms) };
}

const ok: Take = { ok: true };
const wait = (retryAfterSeconds: number): Take => ({ ok: false, retryAfterSeconds });

describe('RateLimiter', () => {
  // Each row: at this time (ms), key "a" takes a token, and gets this.
  const cases: ReadonlyArray<{ about: string; perSecond: number; burst: number; takes: ReadonlyArray<[number, Take]> }> = [
    { about: '2/s with burst 2: two at once, then wait half a second', perSecond: 2, burst: 2, takes: [[0, ok], [0, ok], [0, wait(1)], [499, wait(1)], [500, ok], [500, wait(1)]] },
    { about: '10/m: a token every 6 s, Retry-After counts the seconds', perSecond: 10 / 60, burst: 1, takes: [[0, ok], [1000, wait(5)], [5999, wait(1)], [6000, ok], [6000, wait(6)]] },
    { about: '1/h burst 3', perSecond: 1 / 3600, burst: 3, takes: [[0, ok], [0, ok], [0, ok], [0, wait(3600)], [1_800_000, wait(1800)], [3_600_000, ok]] },
    { about: 'a refused request takes no token', perSecond: 1, burst: 1, takes: [[0, ok], [100, wait(1)], [200, wait(1)], [1000, ok]] },
    { about: 'refill never passes the burst', perSecond: 1, burst: 2, takes: [[0, ok], [60_000, ok], [60_000, ok], [60_000, wait(1)]] },
  ];
  for (const { about, perSecond, burst, takes } of cases) {
    it(about, () => {
      const { bucket, at } = limiter(perSecond, burst);
      takes.forEach(([ms, expected], index) => {
        at(ms);
        assert.deepEqual(bucket.take('a'), expected, `take ${index} at ${ms} ms`);
      });
    });
  }

  it('keeps one bucket per key', () => {
    const { bucket } = limiter(1, 1);
    assert.deepEqual(bucket.take('a'), ok);
    assert.deepEqual(bucket.take('b'), ok);
    assert.deepEqual(bucket.take('a'), wait(1));
  });

  it('forgets buckets that have refilled, so idle clients cost no memory', () => {
    const { bucket, at } = limiter(1, 2);
    for (let i = 0; i < 100; i++) bucket.take(`client-${i}`);
    assert.equal(bucket.size, 100);
    at(2000);
    bucket.take('late');
    assert.equal(bucket.size, 1);
  });

  it('holds at most maxKeys buckets, dropping the least recently used', () => {
    const { bucket, at } = limiter(1, 1, 3);
    bucket.take('a');
    bucket.take('b');
    bucket.take('c');
    at(100);
    bucket.take('a'); // refused, but a is now the most recent
    bucket.take('d'); // b goes
    assert.equal(bucket.size, 3);
    assert.deepEqual(bucket.take('a'), wait(1), 'a was kept');
    assert.deepEqual(bucket.take('b'), ok, 'b was forgotten');
    assert.equal(bucket.size, 3);
  });

  it('refuses settings that would never let a request through', () => {
    assert.throws(() => new RateLimiter({ perSecond: 0, burst: 1 }));
    assert.throws(() => new RateLimiter({ perSecond: 1, burst: 0 }));
  });
});

describe('clientKey', () => {
  it('counts IPv4 as it is, mapped IPv4 as IPv4, and IPv6 by its /64', () => {
    assert.equal(clientKey('203.0.113.7'), '203.0.113.7');
    assert.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(clientKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:DB8:1:2::9'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
    assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  });
});
