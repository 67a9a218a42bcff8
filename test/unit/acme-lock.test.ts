// The order lock's logic, driven by a clock the test moves: who may take it, when it is renewed,
// when it counts as lost, and that release frees only its own. The commands keep the lock in a Map
// with expiry times, as Redis's SET NX PX would (the real commands are tested against redis-server
// in test/integration/acme-redis.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renewEveryMs, takeLock, type LockCommands } from '../../src/acme/lock.js';
import type { Clock } from '../../src/util/clock.js';
import { fakeClock } from '../support/fake-clock.js';

/** Locks in a Map with expiry times, the way SET NX PX and the compare-and-act scripts treat them. */
function memoryLocks(clock: Clock) {
  const locks = new Map<string, { owner: string; until: number }>();
  const live = (name: string) => {
    const lock = locks.get(name);
    return lock && lock.until > clock.now() ? lock : undefined;
  };
  const calls: string[] = [];
  let failing = false;
  const fail = () => {
    if (failing) throw new Error('storage unreachable');
  };
  const commands: LockCommands = {
    async acquire(name, owner, ttlMs) {
      calls.push(`acquire ${owner}`);
      fail();
      if (live(name)) return false;
      locks.set(name, { owner, until: clock.now() + ttlMs });
      return true;
    },
    async renew(name, owner, ttlMs) {
      calls.push(`renew ${owner}`);
      fail();
      const lock = live(name);
      if (lock?.owner !== owner) return false;
      lock.until = clock.now() + ttlMs;
      return true;
    },
    async release(name, owner) {
      calls.push(`release ${owner}`);
      fail();
      if (live(name)?.owner !== owner) return false;
      locks.delete(name);
      return true;
    },
  };
  return { commands, locks, live, calls, setFailing: (value: boolean) => void (failing = value) };
}

describe('the order lock', () => {
  it('is taken by one owner; a second is told another holds it', async () => {
    const { clock } = fakeClock();
    const store = memoryLocks(clock);
    const first = await takeLock(store.commands, 'lock:a.test', { ttlMs: 30_000, clock, owner: 'A' });
    const second = await takeLock(store.commands, 'lock:a.test', { ttlMs: 30_000, clock, owner: 'B' });
    assert.ok(first?.held);
    assert.equal(second, null);
    assert.ok(await takeLock(store.commands, 'lock:b.test', { ttlMs: 30_000, clock, owner: 'B' }), 'another host has a lock of its own');
  });

  it('is renewed every third of its life while held, so it outlives its first expiry', async () => {
    const { clock, advance } = fakeClock();
    const store = memoryLocks(clock);
    assert.equal(renewEveryMs(30_000), 10_000);
    const lock = await takeLock(store.commands, 'lock:a.test', { ttlMs: 30_000, clock, owner: 'A' });
    await advance(95_000);
    assert.ok(lock?.held);
    assert.equal(store.calls.filter((call) => call === 'renew A').length, 9);
    assert.equal(store.live('lock:a.test')?.owner, 'A');
    assert.equal(await takeLock(store.commands, 'lock:a.test', { ttlMs: 30_000, clock, owner: 'B' }), null, 'still not free for another');
  });

  it('expires when its holder dies, and another replica then takes it', async () => {
    const { clock, advance } = fakeClock();
    const store = memoryLocks(clock);
    // A holder that never renews: its process is gone.
    assert.ok(await store.commands.acquire('lock:a.test', 'dead', 30_000));
    await advance(29_999);
    assert.equal(await takeLock(store.commands, 'lock:a.test', { ttlMs: 30_000, clock, owner: 'B' }), null);
    await advance(1);
    const taken = await takeLock(store.commands, 'lock:a.test', { ttlMs: 30_000, clock, owner: 'B' });
    assert.ok(taken?.held);
  });

  it('counts as lost when a renewal finds it taken, says so once and stops renewing', async () => {
    const { clock, advance, pending } = fakeClock();
    const store = memoryLocks(clock);
    const lost: string[] = [];
    const lock = await takeLock(store.commands, 'lock:a.test', { ttlMs: 30_000, clock, owner: 'A', onLost: (_name, why) => lost.push(why) });
    store.locks.set('lock:a.test', { owner: 'B', until: clock.now() + 60_000 });
    await advance(25_000);
    assert.equal(lock?.held, false);
    assert.deepEqual(lost, ['the lock expired or another replica took it']);
    assert.equal(store.calls.filter((call) => call === 'renew A').length, 1);
    assert.equal(pending(), 0);
  });

  it('rides out a failed renewal while the last one runs, and counts as lost once it would have expired', async () => {
    const { clock, advance } = fakeClock();
    const store = memoryLocks(clock);
    const lost: string[] = [];
    const lock = await takeLock(store.commands, 'lock:a.test', { ttlMs: 30_000, clock, owner: 'A', onLost: (_name, why) => lost.push(why) });
    store.setFailing(true);
    await advance(20_000);
    assert.ok(lock?.held, 'two failed renewals: the lock still runs until 30 s');
    assert.deepEqual(lost, []);
    await advance(10_000);
    assert.equal(lock?.held, false);
    assert.equal(lost.length, 1);
    assert.match(lost[0]!, /did not answer before the lock expired/);
  });

  it('holds while the storage recovers between renewals', async () => {
    const { clock, advance } = fakeClock();
    const store = memoryLocks(clock);
    const lock = await takeLock(store.commands, 'lock:a.test', { ttlMs: 30_000, clock, owner: 'A' });
    store.setFailing(true);
    await advance(10_000);
    store.setFailing(false);
    await advance(30_000);
    assert.ok(lock?.held);
    assert.equal(store.live('lock:a.test')?.owner, 'A');
  });

  it('release frees it for the next owner, stops renewals, and never deletes another owner\'s lock', async () => {
    const { clock, advance, pending } = fakeClock();
    const store = memoryLocks(clock);
    const lock = await takeLock(store.commands, 'lock:a.test', { ttlMs: 30_000, clock, owner: 'A' });
    await lock!.release();
    assert.equal(lock!.held, false);
    assert.equal(pending(), 0);
    assert.equal(store.live('lock:a.test'), undefined);
    const next = await takeLock(store.commands, 'lock:a.test', { ttlMs: 30_000, clock, owner: 'B' });
    assert.ok(next?.held);
    // A's second release (or a late one) leaves B's lock alone.
    await lock!.release();
    await store.commands.release('lock:a.test', 'A');
    assert.equal(store.live('lock:a.test')?.owner, 'B');
    await advance(40_000);
    assert.ok(next?.held);
  });

  it('release with the storage away does not throw: the lock expires on its own', async () => {
    const { clock, advance } = fakeClock();
    const store = memoryLocks(clock);
    const lock = await takeLock(store.commands, 'lock:a.test', { ttlMs: 30_000, clock, owner: 'A' });
    store.setFailing(true);
    await lock!.release();
    store.setFailing(false);
    assert.equal(store.live('lock:a.test')?.owner, 'A');
    await advance(30_000);
    assert.ok(await takeLock(store.commands, 'lock:a.test', { ttlMs: 30_000, clock, owner: 'B' }));
  });

  it('a storage that cannot be reached while taking it is an error, not a lock held elsewhere', async () => {
    const { clock } = fakeClock();
    const store = memoryLocks(clock);
    store.setFailing(true);
    await assert.rejects(takeLock(store.commands, 'lock:a.test', { ttlMs: 30_000, clock, owner: 'A' }), /storage unreachable/);
  });
});
