import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Codes } from '../../src/errors.js';
import { RouteStore, type TableChange } from '../../src/routes/store.js';
import { poolKey } from '../../src/routes/table.js';
import type { Endpoint, RouteSpec } from '../../src/routes/types.js';

function spec(host: string | null, path: string, key: string, source = 'docker', overrides: Partial<Endpoint> = {}): RouteSpec {
  return { host, path, source, endpoint: { key, scheme: 'http', address: '10.0.0.1', port: 80, ready: true, stripPrefix: false, ...overrides } };
}

describe('RouteStore.update', () => {
  it('starts with an empty table', () => {
    const store = new RouteStore(['file', 'docker']);
    assert.equal(store.current.pools.length, 0);
    assert.equal(store.current.match('a.test', '/'), undefined);
  });

  it('swaps in a new table and reports added pools on a change', () => {
    const store = new RouteStore(['file', 'docker']);
    const before = store.current;
    const change = store.update('docker', [spec('a.test', '/', 'a'), spec('b.test', '/api', 'b')]);
    assert.ok(change);
    assert.notEqual(store.current, before);
    assert.equal(change.version, before.version + 1);
    assert.equal(store.current.version, change.version);
    assert.deepEqual([...change.added].sort(), [poolKey('a.test', '/'), poolKey('b.test', '/api')].sort());
    assert.deepEqual(change.removed, []);
    assert.deepEqual(change.changed, []);
    assert.equal(store.current.match('a.test', '/')?.endpoints[0]?.key, 'a');
  });

  it('returns null and keeps the same table object for an unchanged update', () => {
    const store = new RouteStore(['file', 'docker']);
    store.update('docker', [spec('a.test', '/', 'a')]);
    const current = store.current;
    assert.equal(store.update('docker', [spec('a.test', '/', 'a')]), null);
    assert.equal(store.current, current);
  });

  it('treats the same routes in another order as unchanged', () => {
    const store = new RouteStore(['file', 'docker']);
    store.update('docker', [spec('a.test', '/', 'a'), spec('a.test', '/', 'b'), spec('c.test', '/', 'c')]);
    const current = store.current;
    assert.equal(store.update('docker', [spec('c.test', '/', 'c'), spec('a.test', '/', 'b'), spec('a.test', '/', 'a')]), null);
    assert.equal(store.current, current);
  });

  it('keeps every pool whose specs did not change as the same object, and reports only the changed one', () => {
    const store = new RouteStore(['file', 'docker']);
    const specs = Array.from({ length: 50 }, (_, i) => spec(`h${i}.test`, '/', `e${i}`));
    store.update('docker', specs);
    const before = store.current;
    const change = store.update('docker', specs.map((one, i) => (i === 7 ? spec('h7.test', '/', 'e7', 'docker', { port: 81 }) : { ...one })));
    assert.deepEqual(change?.changed, [poolKey('h7.test', '/')]);
    for (const pool of store.current.pools) {
      if (pool.host === 'h7.test') assert.notEqual(pool, before.match('h7.test', '/'));
      else assert.equal(pool, before.match(pool.host!, '/'));
    }
    assert.equal(store.current.match('h7.test', '/')?.endpoints[0]?.port, 81);
  });

  it('sees a change when specs trade places within one host and path, where the first one given decides', () => {
    const store = new RouteStore(['file', 'docker']);
    const plain = spec('a.test', '/', 'a');
    const https = { ...spec('a.test', '/', 'b'), tls: { redirect: true, hsts: 'max-age=60', explicit: true } };
    const other = { ...spec('a.test', '/', 'c'), tls: { redirect: true, hsts: 'max-age=120', explicit: true } };
    store.update('docker', [plain, https, other]);
    assert.equal(store.current.match('a.test', '/')?.tls?.hsts, 'max-age=60');
    // The same set in another order is no change: the table stays as it was.
    assert.equal(store.update('docker', [plain, other, https]), null);
    assert.equal(store.current.match('a.test', '/')?.tls?.hsts, 'max-age=60');
  });

  it('returns null for an empty first update and keeps the empty table', () => {
    const store = new RouteStore(['file', 'docker']);
    const current = store.current;
    assert.equal(store.update('docker', []), null);
    assert.equal(store.current, current);
  });

  it('reports removed pools and bumps the version again', () => {
    const store = new RouteStore(['file', 'docker']);
    const first = store.update('docker', [spec('a.test', '/', 'a'), spec('b.test', '/', 'b')])!;
    const second = store.update('docker', [spec('a.test', '/', 'a')]);
    assert.ok(second);
    assert.equal(second.version, first.version + 1);
    assert.deepEqual(second.removed, [poolKey('b.test', '/')]);
    assert.deepEqual(second.added, []);
    assert.deepEqual(second.changed, []);
    assert.equal(store.current.match('b.test', '/'), undefined);
  });

  it('reports a changed pool when an endpoint becomes not ready', () => {
    const store = new RouteStore(['file', 'docker']);
    store.update('docker', [spec('a.test', '/', 'a'), spec('a.test', '/', 'b')]);
    const change = store.update('docker', [spec('a.test', '/', 'a'), spec('a.test', '/', 'b', 'docker', { ready: false, notReadyReason: 'container is stopping' })]);
    assert.ok(change);
    assert.deepEqual(change.changed, [poolKey('a.test', '/')]);
    assert.deepEqual(change.added, []);
    assert.deepEqual(change.removed, []);
    const pool = store.current.match('a.test', '/')!;
    assert.deepEqual([pool.pick()?.key, pool.pick()?.key], ['a', 'a']);
  });

  it('reports a changed pool when an endpoint moves to another address', () => {
    const store = new RouteStore(['file', 'docker']);
    store.update('docker', [spec('a.test', '/', 'a')]);
    const change = store.update('docker', [spec('a.test', '/', 'a', 'docker', { address: '10.0.0.9' })]);
    assert.deepEqual(change?.changed, [poolKey('a.test', '/')]);
    assert.equal(store.current.match('a.test', '/')?.endpoints[0]?.address, '10.0.0.9');
  });

  it('keeps the routes of other sources when one source updates', () => {
    const store = new RouteStore(['file', 'docker']);
    store.update('file', [spec(null, '/google', 'https://www.google.com', 'file')]);
    store.update('docker', [spec('a.test', '/', 'a')]);
    store.update('docker', [spec('b.test', '/', 'b')]);
    assert.equal(store.current.match('x.test', '/google')?.endpoints[0]?.key, 'https://www.google.com');
    assert.equal(store.current.match('b.test', '/')?.endpoints[0]?.key, 'b');
    assert.equal(store.current.match('a.test', '/'), undefined);
  });

  it('keeps the conflicts of the latest build, file over docker', () => {
    const store = new RouteStore(['file', 'docker']);
    store.update('docker', [spec('a.test', '/', 'container')]);
    const change = store.update('file', [spec('a.test', '/', 'http://127.0.0.1:9001', 'file')]);
    assert.ok(change);
    assert.deepEqual(change.conflicts.map((c) => c.code), [Codes.routeConflict]);
    assert.deepEqual(store.conflicts.map((c) => c.code), [Codes.routeConflict]);
    assert.equal(store.current.match('a.test', '/')?.source, 'file');
    assert.deepEqual(change.changed, [poolKey('a.test', '/')]);
  });

  it('tells every listener about a change, and none about a non-change', () => {
    const store = new RouteStore(['file', 'docker']);
    const seen: TableChange[] = [];
    const seenToo: TableChange[] = [];
    store.onChange((change) => seen.push(change));
    store.onChange((change) => seenToo.push(change));
    const change = store.update('docker', [spec('a.test', '/', 'a')]);
    store.update('docker', [spec('a.test', '/', 'a')]);
    assert.equal(seen.length, 1);
    assert.equal(seen[0], change);
    assert.equal(seenToo.length, 1);
  });

  it('has the new table in place by the time listeners run', () => {
    const store = new RouteStore(['file', 'docker']);
    let versionSeen = -1;
    store.onChange((change) => {
      versionSeen = store.current.version;
      assert.equal(change.version, versionSeen);
    });
    store.update('docker', [spec('a.test', '/', 'a')]);
    assert.equal(versionSeen, 1);
  });

  it('carries the round-robin position into the swapped table', () => {
    const store = new RouteStore(['file', 'docker']);
    store.update('docker', [spec('a.test', '/', 'a'), spec('a.test', '/', 'b'), spec('a.test', '/', 'c')]);
    store.current.match('a.test', '/')!.pick();
    store.update('docker', [spec('a.test', '/', 'a'), spec('a.test', '/', 'b'), spec('a.test', '/', 'c'), spec('z.test', '/', 'z')]);
    assert.equal(store.current.match('a.test', '/')!.pick()?.key, 'b');
  });
});

describe('RouteStore change detection', () => {
  it('sees a renamed container as a change to its route', () => {
    const store = new RouteStore(['docker']);
    const endpoint = { key: 'c1/default', scheme: 'http' as const, address: '10.0.0.2', port: 80, ready: true, stripPrefix: false, container: { id: 'c1', name: 'old-name' } };
    store.update('docker', [{ host: 'a.test', path: '/', source: 'docker', endpoint }]);
    const change = store.update('docker', [{ host: 'a.test', path: '/', source: 'docker', endpoint: { ...endpoint, container: { id: 'c1', name: 'new-name' } } }]);
    assert.deepEqual(change?.changed, ['a.test /']);
    assert.equal(store.current.match('a.test', '/')?.endpoints[0]?.container?.name, 'new-name');
  });
});

describe('RouteStore change detection', () => {
  // Required<>: a field added to Endpoint fails to compile here until the test covers it.
  const full: Required<Endpoint> = {
    key: 'c1/80',
    scheme: 'https',
    address: '10.0.0.1',
    port: 443,
    ready: false,
    notReadyReason: 'starting',
    stripPrefix: false,
    container: { id: 'c1', name: 'web-1' },
    origin: 'routes.yml:3',
    basePath: '/base',
    upstreamHost: false,
    verifyTls: false,
    ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
    allowEncoded: ['slash'],
  };
  const changedValue = (value: unknown): unknown =>
    typeof value === 'string' ? value + 'x' : typeof value === 'number' ? value + 1 : typeof value === 'boolean' ? !value : Array.isArray(value) ? [...value, 'nul'] : { id: 'c2', name: 'web-2' };

  for (const field of Object.keys(full) as Array<keyof Endpoint>) {
    it(`swaps the table when only the endpoint's ${field} changes`, () => {
      const store = new RouteStore(['docker']);
      store.update('docker', [{ host: 'a.test', path: '/', source: 'docker', endpoint: full }]);
      const before = store.current;
      const change = store.update('docker', [{ host: 'a.test', path: '/', source: 'docker', endpoint: { ...full, [field]: changedValue(full[field]) } }]);
      assert.ok(change, `a change of ${field} is seen`);
      assert.notEqual(store.current, before);
    });
  }

  it('sees no change when the same endpoint is built with its fields in another order', () => {
    const store = new RouteStore(['docker']);
    store.update('docker', [{ host: 'a.test', path: '/', source: 'docker', endpoint: full }]);
    const reordered = Object.fromEntries(Object.entries(full).reverse()) as unknown as Endpoint;
    assert.equal(store.update('docker', [{ host: 'a.test', path: '/', source: 'docker', endpoint: reordered }]), null);
  });
});
