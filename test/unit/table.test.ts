import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Codes } from '../../src/errors.js';
import { Pool, RouteTable, poolKey } from '../../src/routes/table.js';
import type { Endpoint, RouteSpec } from '../../src/routes/types.js';

const ORDER = ['file', 'docker'];

function endpoint(key: string, overrides: Partial<Endpoint> = {}): Endpoint {
  return { key, scheme: 'http', address: '10.0.0.1', port: 80, ready: true, stripPrefix: false, ...overrides };
}

function spec(host: string | null, path: string, key: string, source = 'docker', overrides: Partial<Endpoint> = {}): RouteSpec {
  return { host, path, endpoint: endpoint(key, overrides), source };
}

function build(specs: RouteSpec[], previous?: RouteTable) {
  return RouteTable.build(specs, ORDER, (previous?.version ?? 0) + 1, previous);
}

/** Which endpoint key would serve host + path (first pick of the matched pool). */
function served(table: RouteTable, host: string, path: string): string | undefined {
  return table.match(host, path)?.endpoints[0]?.key;
}

describe('RouteTable.match: hosts', () => {
  it('finds nothing in an empty table', () => {
    assert.equal(RouteTable.empty().match('a.test', '/'), undefined);
    assert.equal(RouteTable.empty().version, 0);
  });

  it('matches an exact host', () => {
    const { table } = build([spec('one.example.test', '/', 'one')]);
    assert.equal(served(table, 'one.example.test', '/x'), 'one');
    assert.equal(table.match('two.example.test', '/x'), undefined);
  });

  it('prefers an exact host over a wildcard that also matches', () => {
    const { table } = build([spec('*.example.test', '/', 'wild'), spec('one.example.test', '/', 'exact')]);
    assert.equal(served(table, 'one.example.test', '/'), 'exact');
    assert.equal(served(table, 'two.example.test', '/'), 'wild');
  });

  it('prefers the longer wildcard suffix over a shorter one', () => {
    const { table } = build([spec('*.example.test', '/', 'short'), spec('*.eu.example.test', '/', 'long')]);
    assert.equal(served(table, 'shop.eu.example.test', '/'), 'long');
    assert.equal(served(table, 'shop.us.example.test', '/'), 'short');
  });

  it('lets a wildcard match deeper subdomains', () => {
    const { table } = build([spec('*.example.test', '/', 'wild')]);
    assert.equal(served(table, 'a.b.c.example.test', '/'), 'wild');
  });

  it('does not let a wildcard match the bare domain', () => {
    const { table } = build([spec('*.example.test', '/', 'wild')]);
    assert.equal(table.match('example.test', '/'), undefined);
  });

  it('does not match evilone.example.test against one.example.test', () => {
    const { table } = build([spec('one.example.test', '/', 'one')]);
    assert.equal(table.match('evilone.example.test', '/'), undefined);
  });

  it('does not match evilone.example.test against *.one.example.test', () => {
    const { table } = build([spec('*.one.example.test', '/', 'one')]);
    assert.equal(table.match('evilone.example.test', '/'), undefined);
    assert.equal(table.match('x.evilone.example.test', '/'), undefined);
    assert.equal(served(table, 'x.one.example.test', '/'), 'one');
  });

  it('does not match a host that only ends with the same text as a wildcard without the dot', () => {
    const { table } = build([spec('*.example.test', '/', 'wild')]);
    assert.equal(table.match('notexample.test', '/'), undefined);
  });

  it('tries any-host routes last, even when their path is longer', () => {
    const { table } = build([spec(null, '/api/deep', 'any'), spec('one.example.test', '/', 'host'), spec('*.example.test', '/', 'wild')]);
    assert.equal(served(table, 'one.example.test', '/api/deep/x'), 'host');
    assert.equal(served(table, 'two.example.test', '/api/deep/x'), 'wild');
    assert.equal(served(table, 'other.test', '/api/deep/x'), 'any');
    assert.equal(table.match('other.test', '/elsewhere'), undefined);
  });

  it('serves a request without a host only from any-host routes', () => {
    const { table } = build([spec('a.test', '/', 'a'), spec(null, '/google', 'any')]);
    assert.equal(served(table, '', '/google/x'), 'any');
    assert.equal(table.match('', '/'), undefined);
  });
});

describe('RouteTable.match: paths', () => {
  it('takes the longest path prefix on one host', () => {
    const { table } = build([spec('a.test', '/', 'root'), spec('a.test', '/api', 'api'), spec('a.test', '/api/v2', 'v2')]);
    assert.equal(served(table, 'a.test', '/'), 'root');
    assert.equal(served(table, 'a.test', '/api'), 'api');
    assert.equal(served(table, 'a.test', '/api/v1/x'), 'api');
    assert.equal(served(table, 'a.test', '/api/v2'), 'v2');
    assert.equal(served(table, 'a.test', '/api/v2/x'), 'v2');
  });

  it('does not match /apix against /api', () => {
    const { table } = build([spec('a.test', '/api', 'api'), spec('a.test', '/', 'root')]);
    assert.equal(served(table, 'a.test', '/apix'), 'root');
    const only = build([spec('a.test', '/api', 'api')]).table;
    assert.equal(only.match('a.test', '/apix'), undefined);
  });

  it('falls through from a host with only /api to a wildcard, then to any-host, for other paths', () => {
    const { table } = build([spec('one.example.test', '/api', 'api'), spec('*.example.test', '/', 'wild'), spec(null, '/', 'any')]);
    assert.equal(served(table, 'one.example.test', '/api/x'), 'api');
    assert.equal(served(table, 'one.example.test', '/other'), 'wild');
    const noWild = build([spec('one.example.test', '/api', 'api'), spec(null, '/', 'any')]).table;
    assert.equal(served(noWild, 'one.example.test', '/other'), 'any');
  });

  it('takes the longest path within a wildcard and within any-host routes', () => {
    const { table } = build([spec('*.a.test', '/', 'w-root'), spec('*.a.test', '/x', 'w-x'), spec(null, '/', 'any-root'), spec(null, '/y', 'any-y')]);
    assert.equal(served(table, 'h.a.test', '/x/1'), 'w-x');
    assert.equal(served(table, 'h.a.test', '/z'), 'w-root');
    assert.equal(served(table, 'b.test', '/y/1'), 'any-y');
    assert.equal(served(table, 'b.test', '/z'), 'any-root');
  });
});

describe('RouteTable.build: pools and conflicts', () => {
  it('puts several specs on one host and path into one pool, endpoints ordered by key', () => {
    const { table, conflicts } = build([spec('a.test', '/', 'c'), spec('a.test', '/', 'a'), spec('a.test', '/', 'b')]);
    assert.deepEqual(conflicts, []);
    assert.equal(table.pools.length, 1);
    assert.deepEqual(table.pools[0]?.endpoints.map((e) => e.key), ['a', 'b', 'c']);
    assert.equal(table.pools[0]?.key, poolKey('a.test', '/'));
  });

  it('keeps one endpoint per key when the same endpoint is listed twice', () => {
    const { table } = build([spec('a.test', '/', 'a'), spec('a.test', '/', 'a')]);
    assert.equal(table.pools[0]?.endpoints.length, 1);
  });

  it('lets a file route beat a docker route on the same host and path, with a conflict warning', () => {
    const { table, conflicts } = build([spec('a.test', '/', 'container', 'docker'), spec('a.test', '/', 'http://127.0.0.1:9001', 'file')]);
    assert.equal(table.pools.length, 1);
    assert.equal(table.pools[0]?.source, 'file');
    assert.deepEqual(table.pools[0]?.endpoints.map((e) => e.key), ['http://127.0.0.1:9001']);
    assert.deepEqual(conflicts.map((c) => c.code), [Codes.routeConflict]);
  });

  it('lets the file route win whatever the input order', () => {
    const { table } = build([spec('a.test', '/', 'http://127.0.0.1:9001', 'file'), spec('a.test', '/', 'container', 'docker')]);
    assert.equal(table.pools[0]?.source, 'file');
  });

  it('reports no conflict for a docker and a file route on different paths', () => {
    const { table, conflicts } = build([spec('a.test', '/', 'container', 'docker'), spec('a.test', '/static', 'http://127.0.0.1:9001', 'file')]);
    assert.deepEqual(conflicts, []);
    assert.equal(table.pools.length, 2);
  });

  it('builds the same pool order and endpoint order whatever the input order', () => {
    const specs = [
      spec('b.test', '/', 'b1'),
      spec('a.test', '/api', 'a2'),
      spec(null, '/x', 'n1'),
      spec('*.c.test', '/', 'c1'),
      spec('a.test', '/', 'a1'),
      spec('b.test', '/', 'b0'),
      spec('a.test', '/api', 'a3'),
    ];
    const shape = (table: RouteTable) => table.pools.map((p) => [p.key, p.endpoints.map((e) => e.key)]);
    const forward = shape(build(specs).table);
    const backward = shape(build([...specs].reverse()).table);
    const shuffled = shape(build([specs[3]!, specs[0]!, specs[6]!, specs[2]!, specs[5]!, specs[1]!, specs[4]!]).table);
    assert.deepEqual(backward, forward);
    assert.deepEqual(shuffled, forward);
  });

  it('gives the table the version it was built with', () => {
    assert.equal(RouteTable.build([], ORDER, 7).table.version, 7);
  });
});

describe('Pool.pick', () => {
  it('rotates evenly and in a fixed order over the ready endpoints', () => {
    const { table } = build([spec('a.test', '/', 'b'), spec('a.test', '/', 'a'), spec('a.test', '/', 'c')]);
    const pool = table.match('a.test', '/')!;
    const first = Array.from({ length: 6 }, () => pool.pick()?.key);
    assert.deepEqual(first, ['a', 'b', 'c', 'a', 'b', 'c']);
    const counts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const key = pool.pick()!.key;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(counts), { a: 100, b: 100, c: 100 });
  });

  it('picks the same sequence from two tables built from the same specs', () => {
    const specs = [spec('a.test', '/', 'x'), spec('a.test', '/', 'y')];
    const one = build(specs).table.match('a.test', '/')!;
    const two = build([...specs].reverse()).table.match('a.test', '/')!;
    assert.deepEqual([one.pick()?.key, one.pick()?.key, one.pick()?.key], [two.pick()?.key, two.pick()?.key, two.pick()?.key]);
  });

  it('never picks an endpoint that is not ready', () => {
    const { table } = build([spec('a.test', '/', 'up'), spec('a.test', '/', 'down', 'docker', { ready: false, notReadyReason: 'container is stopping' })]);
    const pool = table.match('a.test', '/')!;
    assert.equal(pool.endpoints.length, 2);
    for (let i = 0; i < 10; i++) assert.equal(pool.pick()?.key, 'up');
  });

  it('picks nothing when no endpoint is ready, though the route matches', () => {
    const { table } = build([spec('a.test', '/', 'down', 'docker', { ready: false })]);
    const pool = table.match('a.test', '/');
    assert.ok(pool);
    assert.equal(pool.pick(), undefined);
  });

  it('skips the endpoint to avoid when another one is ready', () => {
    const { table } = build([spec('a.test', '/', 'a'), spec('a.test', '/', 'b'), spec('a.test', '/', 'c')]);
    const pool = table.match('a.test', '/')!;
    for (let i = 0; i < 9; i++) {
      const failed = pool.pick()!;
      const retry = pool.pick(failed);
      assert.ok(retry);
      assert.notEqual(retry.key, failed.key);
    }
  });

  it('returns the only ready endpoint even when asked to avoid it', () => {
    const { table } = build([spec('a.test', '/', 'only'), spec('a.test', '/', 'down', 'docker', { ready: false })]);
    const pool = table.match('a.test', '/')!;
    const only = pool.pick()!;
    assert.equal(pool.pick(only)?.key, 'only');
  });

  it('carries the round-robin position over from the previous table', () => {
    const specs = [spec('a.test', '/', 'a'), spec('a.test', '/', 'b'), spec('a.test', '/', 'c')];
    const first = build(specs).table;
    const pool = first.match('a.test', '/')!;
    assert.deepEqual([pool.pick()?.key, pool.pick()?.key], ['a', 'b']);
    const second = build(specs, first).table;
    const next = second.match('a.test', '/')!;
    assert.equal(next.position, 2);
    assert.equal(next.pick()?.key, 'c');
  });

  it('starts a new pool at the beginning of its rotation', () => {
    const first = build([spec('a.test', '/', 'a')]).table;
    first.match('a.test', '/')!.pick();
    const second = build([spec('a.test', '/', 'a'), spec('b.test', '/', 'x'), spec('b.test', '/', 'y')], first).table;
    assert.equal(second.match('b.test', '/')!.position, 0);
    assert.equal(second.match('b.test', '/')!.pick()?.key, 'x');
  });

  it('can be built directly with a starting position', () => {
    const pool = new Pool('a.test', '/', 'docker', [endpoint('a'), endpoint('b')], null, null, null, 1);
    assert.equal(pool.pick()?.key, 'b');
    assert.equal(pool.key, poolKey('a.test', '/'));
  });
});
