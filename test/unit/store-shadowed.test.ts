// The route store with sources that keep unchanged specs as they were: a shadowed route, the same
// specs again, and pools made of the same endpoint objects.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Codes } from '../../src/errors.js';
import { RouteStore } from '../../src/routes/store.js';
import type { Endpoint, RouteSpec } from '../../src/routes/types.js';

function spec(host: string, key: string, source: string, overrides: Partial<Endpoint> = {}): RouteSpec {
  return { host, path: '/', source, endpoint: { key, scheme: 'http', address: '10.0.0.1', port: 80, ready: true, stripPrefix: false, ...overrides } };
}

describe('RouteStore with stores', () => {
  it('keeps the conflict of a route a stronger source shadows, though no pool changed', () => {
    const store = new RouteStore(['file', 'redis', 'docker']);
    store.update('file', [spec('a.test', 'file-a', 'file')]);
    assert.equal(store.update('redis', [spec('a.test', 'redis-a', 'redis')]), null, 'no pool changed');
    assert.deepEqual(store.conflicts.map((conflict) => conflict.code), [Codes.routeConflict]);
    store.update('redis', []);
    assert.deepEqual(store.conflicts, []);
  });

  it('changes nothing for the same specs again, in the same objects or in new ones', () => {
    const store = new RouteStore(['redis']);
    const specs = [spec('a.test', 'a', 'redis')];
    assert.ok(store.update('redis', specs));
    assert.equal(store.update('redis', specs), null);
    assert.equal(store.update('redis', [spec('a.test', 'a', 'redis')]), null);
    assert.deepEqual(store.update('redis', [spec('a.test', 'b', 'redis')])?.changed, ['a.test /']);
  });

  it('reports a pool as changed when an endpoint changed, and not when its objects are the same', () => {
    const store = new RouteStore(['redis']);
    const a = spec('a.test', 'a', 'redis');
    const b = spec('b.test', 'b', 'redis');
    store.update('redis', [a, b]);
    const change = store.update('redis', [a, spec('b.test', 'b', 'redis', { ready: false })]);
    assert.deepEqual(change?.changed, ['b.test /']);
    assert.equal(store.update('redis', [a, spec('b.test', 'b', 'redis', { ready: false })]), null, 'equal endpoints in new objects: no change');
  });
});

describe('RouteTable.build with the same spec objects', () => {
  it('reuses a pool built from the very same specs, and builds again one whose specs changed', async () => {
    const { RouteTable } = await import('../../src/routes/table.js');
    const a = spec('a.test', 'a', 'redis');
    const b = spec('b.test', 'b', 'redis');
    const first = RouteTable.build([a, b], ['redis'], 1).table;
    const second = RouteTable.build([a, spec('b.test', 'b2', 'redis')], ['redis'], 2, first).table;
    const poolOf = (table: typeof first, host: string) => table.pools.find((pool) => pool.host === host);
    assert.equal(poolOf(second, 'a.test'), poolOf(first, 'a.test'), 'unchanged: the same pool');
    assert.notEqual(poolOf(second, 'b.test'), poolOf(first, 'b.test'));
    assert.equal(poolOf(second, 'b.test')?.endpoints[0]?.key, 'b2');
    const failing = new Map([['x', 'down']]);
    const third = RouteTable.build([a, spec('b.test', 'b2', 'redis')], ['redis'], 3, second, failing).table;
    assert.equal(poolOf(third, 'a.test'), poolOf(second, 'a.test'), 'a pool without a health check is kept whatever the health failures');
  });

  it('builds a shadowed pool again each time, so its conflict is always reported', async () => {
    const { RouteTable } = await import('../../src/routes/table.js');
    const specs = [spec('a.test', 'file-a', 'file'), spec('a.test', 'redis-a', 'redis')];
    const first = RouteTable.build(specs, ['file', 'redis'], 1);
    const second = RouteTable.build(specs, ['file', 'redis'], 2, first.table);
    assert.equal(second.conflicts.length, 1);
    assert.equal(second.table.pools[0]?.endpoints[0]?.key, 'file-a');
  });
});
