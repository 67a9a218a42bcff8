import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createBackoff } from '../../src/util/backoff.js';

describe('createBackoff', () => {
  it('doubles from the initial delay up to the cap with the largest jitter', () => {
    const backoff = createBackoff(100, 1000, () => 1);
    assert.deepEqual(Array.from({ length: 7 }, () => backoff.next()), [100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('waits at least half the ceiling with the smallest jitter', () => {
    const backoff = createBackoff(100, 1000, () => 0);
    assert.deepEqual(Array.from({ length: 6 }, () => backoff.next()), [50, 100, 200, 400, 500, 500]);
  });

  it('stays between half and all of the ceiling for any random value', () => {
    const randoms = [0, 0.1, 0.5, 0.9, 0.999];
    for (const r of randoms) {
      const backoff = createBackoff(100, 1000, () => r);
      let ceiling = 100;
      for (let i = 0; i < 8; i++) {
        const delay = backoff.next();
        assert.ok(delay >= ceiling / 2 && delay <= ceiling, `delay ${delay} for ceiling ${ceiling}`);
        ceiling = Math.min(1000, ceiling * 2);
      }
    }
  });

  it('never exceeds the cap after very many attempts', () => {
    const backoff = createBackoff(100, 30_000, () => 1);
    let last = 0;
    for (let i = 0; i < 2000; i++) last = backoff.next();
    assert.equal(last, 30_000);
    assert.ok(Number.isFinite(last));
  });

  it('counts attempts and starts over after reset', () => {
    const backoff = createBackoff(100, 1000, () => 1);
    backoff.next();
    backoff.next();
    backoff.next();
    assert.equal(backoff.attempts, 3);
    backoff.reset();
    assert.equal(backoff.attempts, 0);
    assert.equal(backoff.next(), 100);
    assert.equal(backoff.next(), 200);
  });

  it('uses the injected random source', () => {
    let calls = 0;
    const backoff = createBackoff(1000, 1000, () => {
      calls++;
      return 0.5;
    });
    assert.equal(backoff.next(), 750);
    assert.equal(calls, 1);
  });
});
