import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileBehaviours } from '../../src/behaviours/pipeline.js';
import type { BehaviourSpec } from '../../src/behaviours/spec.js';
import { leastConnected, randomly, stickyIdOf } from '../../src/routes/balance.js';
import { Pool, RouteTable } from '../../src/routes/table.js';
import type { Endpoint, RouteSpec } from '../../src/routes/types.js';

function endpoint(key: string, overrides: Partial<Endpoint> = {}): Endpoint {
  return { key, scheme: 'http', address: '10.0.0.1', port: 80, ready: true, stripPrefix: false, ...overrides };
}

const [a, b, c] = [endpoint('a'), endpoint('b'), endpoint('c')];
const keys = (list: ReadonlyArray<Endpoint | undefined>) => list.map((one) => one?.key);

function pool(behaviours: BehaviourSpec | null, endpoints = [a, b, c], random?: () => number): Pool {
  return new Pool('a.test', '/', 'file', endpoints, null, null, behaviours ? compileBehaviours(behaviours) : null, 0, new Map(), random);
}

function specs(behaviours: BehaviourSpec, names: string[]): RouteSpec[] {
  return names.map((name) => ({ host: 'a.test', path: '/', source: 'file', endpoint: endpoint(name), behaviours }));
}

describe('leastConnected', () => {
  const loads = new Map([['a', 2], ['b', 0], ['c', 1]]);
  const load = (one: Endpoint) => loads.get(one.key) ?? 0;

  it('takes the endpoint with the fewest in flight', () => {
    assert.equal(leastConnected([a, b, c], load, 0)?.key, 'b');
  });

  it('breaks ties in turn from the start given', () => {
    const even = () => 0;
    assert.deepEqual(keys([0, 1, 2, 3].map((start) => leastConnected([a, b, c], even, start))), ['a', 'b', 'c', 'a']);
  });

  it('skips the endpoint to avoid unless it is the only one', () => {
    assert.equal(leastConnected([a, b, c], load, 0, b)?.key, 'c');
    assert.equal(leastConnected([b], load, 0, b)?.key, 'b');
    assert.equal(leastConnected([], load, 0), undefined);
  });
});

describe('randomly', () => {
  it('maps [0, 1) evenly over the list', () => {
    assert.deepEqual(keys([0, 0.34, 0.99].map((value) => randomly([a, b, c], () => value))), ['a', 'b', 'c']);
  });

  it('skips the endpoint to avoid unless it is the only one', () => {
    assert.deepEqual(keys([0, 0.99].map((value) => randomly([a, b, c], () => value, a))), ['b', 'c']);
    assert.equal(randomly([a], () => 0.5, a)?.key, 'a');
    assert.equal(randomly([], () => 0.5), undefined);
  });
});

describe('stickyIdOf', () => {
  it('is the same for the same key, opaque and cookie-safe', () => {
    const id = stickyIdOf(endpoint('http://10.0.0.5:9001'));
    assert.equal(id, stickyIdOf(endpoint('http://10.0.0.5:9001')));
    assert.notEqual(id, stickyIdOf(endpoint('http://10.0.0.6:9001')));
    assert.match(id, /^[A-Za-z0-9_-]{16}$/);
    assert.ok(!id.includes('10.0.0'));
  });
});

describe('Pool.pick with a balance', () => {
  it('rotates by default', () => {
    const one = pool(null);
    assert.equal(one.balance, 'round-robin');
    assert.deepEqual(keys([one.pick(), one.pick(), one.pick(), one.pick()]), ['a', 'b', 'c', 'a']);
  });

  it('least-conn counts what is acquired until released, once', () => {
    const one = pool({ lb: 'least-conn' });
    const first = one.pick()!;
    const releaseFirst = one.acquire(first);
    const second = one.pick()!;
    const releaseSecond = one.acquire(second);
    assert.deepEqual(keys([first, second]), ['a', 'b']);
    assert.equal(one.pick()?.key, 'c');
    const releaseA2 = one.acquire(a);
    one.acquire(c);
    // a: 2, b: 1, c: 1 -> b or c, in turn
    assert.ok(['b', 'c'].includes(one.pick()!.key));
    releaseFirst();
    releaseFirst();
    releaseA2();
    assert.equal(one.inFlight.get('a'), undefined, 'deleted at zero, released once');
    assert.equal(one.pick()?.key, 'a');
    releaseSecond();
    assert.equal(one.inFlight.has('b'), false);
  });

  it('round robin and random count nothing', () => {
    const one = pool(null);
    one.acquire(a)();
    assert.equal(one.inFlight.size, 0);
  });

  it('random uses its source of randomness', () => {
    const one = pool({ lb: 'random' }, [a, b, c], () => 0.7);
    assert.deepEqual(keys([one.pick(), one.pick(b)]), ['c', 'c']);
  });

  it('sticky: a known id picks its endpoint; an unknown, gone or avoided one falls back', () => {
    const one = pool({ sticky: true });
    assert.equal(one.sticky, true);
    const idOfC = one.stickyIdOf(c);
    assert.deepEqual(keys([one.pick(undefined, idOfC), one.pick(undefined, idOfC)]), ['c', 'c']);
    assert.equal(one.pick(undefined, 'nope')?.key, 'a');
    assert.equal(one.pick(c, idOfC)?.key, 'b', 'a retry avoids the failed endpoint');
    const notReady = pool({ sticky: true }, [a, b, endpoint('c', { ready: false })]);
    assert.notEqual(notReady.pick(undefined, idOfC)?.key, 'c');
  });

  it('ignores a sticky id on a route that is not sticky', () => {
    const one = pool(null);
    assert.equal(one.pick(undefined, one.stickyIdOf(c))?.key, 'a');
  });
});

describe('in-flight counts across table swaps', () => {
  it('are carried like the cursor: a request acquired on the old table is released on the shared count', () => {
    const leastConn: BehaviourSpec = { lb: 'least-conn' };
    const first = RouteTable.build(specs(leastConn, ['a', 'b']), ['file'], 1).table;
    const old = first.match('a.test', '/')!;
    const release = old.acquire(old.pick()!);
    const second = RouteTable.build(specs(leastConn, ['a', 'b', 'c']), ['file'], 2, first).table;
    const now = second.match('a.test', '/')!;
    assert.equal(now.inFlight, old.inFlight);
    assert.equal(now.inFlight.get('a'), 1);
    release();
    assert.equal(now.inFlight.size, 0);
  });
});
