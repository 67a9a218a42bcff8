import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCoalescer } from '../../src/util/coalescer.js';

/** Lets all pending microtasks and promise chains settle, with no timers. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function gatedRun() {
  const gates: Array<() => void> = [];
  let runs = 0;
  let active = 0;
  let maxActive = 0;
  const run = async () => {
    runs++;
    active++;
    maxActive = Math.max(maxActive, active);
    await new Promise<void>((resolve) => gates.push(resolve));
    active--;
  };
  return {
    run,
    get runs() {
      return runs;
    },
    get maxActive() {
      return maxActive;
    },
    /** Lets the oldest waiting run finish. */
    release() {
      const gate = gates.shift();
      assert.ok(gate, 'a run should be waiting');
      gate();
    },
    get waiting() {
      return gates.length;
    },
  };
}

describe('createCoalescer', () => {
  it('runs once for one request and resolves after that run', async () => {
    const r = gatedRun();
    const c = createCoalescer(r.run, () => assert.fail('no error expected'));
    let done = false;
    void c.request().then(() => (done = true));
    await settle();
    assert.equal(r.runs, 1);
    assert.equal(c.running, true);
    assert.equal(done, false);
    r.release();
    await settle();
    assert.equal(done, true);
    assert.equal(c.running, false);
    assert.equal(r.runs, 1);
  });

  it('turns many requests during a run into exactly one more run', async () => {
    const r = gatedRun();
    const c = createCoalescer(r.run, () => assert.fail('no error expected'));
    void c.request();
    await settle();
    const during = Array.from({ length: 10 }, () => c.request());
    await settle();
    assert.equal(r.runs, 1);
    r.release();
    await settle();
    assert.equal(r.runs, 2);
    r.release();
    await Promise.all(during);
    await settle();
    assert.equal(r.runs, 2);
    assert.equal(r.waiting, 0);
    assert.equal(c.running, false);
  });

  it('resolves a request made during a run only after the run that follows it', async () => {
    const r = gatedRun();
    const c = createCoalescer(r.run, () => assert.fail('no error expected'));
    let firstDone = false;
    let secondDone = false;
    void c.request().then(() => (firstDone = true));
    await settle();
    void c.request().then(() => (secondDone = true));
    r.release();
    await settle();
    assert.equal(firstDone, true);
    assert.equal(secondDone, false);
    r.release();
    await settle();
    assert.equal(secondDone, true);
  });

  it('never overlaps runs', async () => {
    const r = gatedRun();
    const c = createCoalescer(r.run, () => assert.fail('no error expected'));
    for (let round = 0; round < 5; round++) {
      void c.request();
      void c.request();
      await settle();
      r.release();
      await settle();
    }
    while (r.waiting > 0) {
      r.release();
      await settle();
    }
    assert.equal(r.maxActive, 1);
    assert.ok(r.runs >= 5);
  });

  it('passes a failed run to onError and still runs later requests', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const boom = new Error('list failed');
    const c = createCoalescer(async () => {
      calls++;
      if (calls === 1) throw boom;
    }, (error) => errors.push(error));
    await c.request();
    assert.deepEqual(errors, [boom]);
    await c.request();
    assert.equal(calls, 2);
    assert.equal(errors.length, 1);
    assert.equal(c.running, false);
  });

  it('passes a synchronous throw to onError too', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const c = createCoalescer(() => {
      calls++;
      if (calls === 1) throw new Error('sync');
      return Promise.resolve();
    }, (error) => errors.push(error));
    await c.request();
    await c.request();
    assert.equal(errors.length, 1);
    assert.equal(calls, 2);
  });

  it('runs again after a failure when a request came in during the failing run', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    let fail!: () => void;
    const c = createCoalescer(async () => {
      calls++;
      if (calls === 1) await new Promise<void>((_, reject) => (fail = () => reject(new Error('x'))));
    }, (error) => errors.push(error));
    void c.request();
    await settle();
    const later = c.request();
    fail();
    await later;
    assert.equal(calls, 2);
    assert.equal(errors.length, 1);
  });
});
