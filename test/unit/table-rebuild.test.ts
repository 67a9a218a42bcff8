import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RouteStore } from '../../src/routes/store.js';
import { RouteTable, type Pool } from '../../src/routes/table.js';
import type { ForwardSpec, RouteSpec } from '../../src/routes/types.js';

const ORDER = ['file', 'redis', 'docker'];

/** Everything a pool answers with, as plain data. */
function view(pools: readonly Pool[]): unknown[] {
  return pools.map((pool) => ({ key: pool.key, source: pool.source, endpoints: pool.endpoints, redirect: pool.redirect, tls: pool.tls, behaviours: pool.behaviours?.spec ?? null }));
}

const specArb = fc.record({
  host: fc.constantFrom('a.test', 'b.test', '*.w.test', null),
  path: fc.constantFrom('/', '/api'),
  source: fc.constantFrom(...ORDER),
  port: fc.integer({ min: 80, max: 82 }),
  kind: fc.constantFrom('plain', 'tls', 'redirect'),
}).map(({ host, path, source, port, kind }): RouteSpec => {
  if (kind === 'redirect') return { host, path, source, redirect: { location: `https://r${port}.test`, code: 301, stripPrefix: false, origin: `o${port}` } };
  const endpoint = { key: `${source}-${port}`, scheme: 'http' as const, address: '10.0.0.1', port, ready: true, stripPrefix: false };
  return kind === 'tls' ? { host, path, source, endpoint, tls: { redirect: true, hsts: `max-age=${port}`, explicit: true } } : { host, path, source, endpoint };
});

describe('RouteTable.build with the previous table', () => {
  it('gives what a build from nothing gives, through any sequence of changed spans', () => {
    const step = fc.record({ start: fc.nat(12), deleteCount: fc.nat(3), insert: fc.array(specArb, { maxLength: 3 }), health: fc.boolean() });
    fc.assert(
      // From one source (no conflicts: the pools of the changed span are remade) or from several.
      fc.property(fc.array(specArb, { maxLength: 12 }), fc.array(step, { minLength: 1, maxLength: 8 }), fc.boolean(), (initial, steps, oneSource) => {
        const from = (list: RouteSpec[]) => (oneSource ? list.map((spec) => ({ ...spec, source: 'redis' })) : list);
        let specs = from(initial);
        let table = RouteTable.build(specs, ORDER, 1).table;
        const failing = new Map([['docker-81 /health a.test', 'status 500']]);
        for (const [n, { start, deleteCount, insert, health }] of steps.entries()) {
          const next = [...specs];
          next.splice(Math.min(start, next.length), deleteCount, ...from(insert));
          specs = next;
          const overlay = health ? failing : undefined;
          const incremental = RouteTable.build(specs, ORDER, n + 2, table, overlay);
          const fresh = RouteTable.build(specs, ORDER, n + 2, undefined, overlay);
          assert.deepEqual(view(incremental.table.pools), view(fresh.table.pools));
          assert.deepEqual(incremental.conflicts, fresh.conflicts);
          for (const host of ['a.test', 'b.test', 'x.w.test', 'other.test']) {
            for (const path of ['/', '/api', '/api/x', '/apix']) assert.equal(incremental.table.match(host, path)?.key, fresh.table.match(host, path)?.key, `${host}${path}`);
          }
          table = incremental.table;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('remakes only the pool of the changed spec among many', () => {
    const specs: ForwardSpec[] = Array.from({ length: 1000 }, (_, i) => ({ host: `h${i}.test`, path: '/', source: 'redis', endpoint: { key: `e${i}`, scheme: 'http', address: '10.0.0.1', port: 80, ready: true, stripPrefix: false } }));
    const store = new RouteStore(ORDER);
    store.update('redis', specs);
    const before = store.current;
    const next = [...specs];
    next.splice(500, 1, { ...specs[500]!, endpoint: { ...specs[500]!.endpoint, port: 81 } });
    const change = store.update('redis', next);
    assert.deepEqual(change && [change.added, change.removed, change.changed], [[], [], ['h500.test /']]);
    const kept = store.current.pools.filter((pool, i) => pool === before.pools[i]);
    assert.equal(kept.length, 999);
    assert.equal(store.current.match('h500.test', '/')?.endpoints[0]?.port, 81);
  });
});
