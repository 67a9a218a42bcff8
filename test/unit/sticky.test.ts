import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type RequestFacts } from '../../src/proxy/route.js';
import { stickyCookie, stickyIdFor, stickyValues } from '../../src/proxy/sticky.js';
import { RouteTable } from '../../src/routes/table.js';
import type { Endpoint, RouteSpec } from '../../src/routes/types.js';

function endpoint(key: string, overrides: Partial<Endpoint> = {}): Endpoint {
  return { key, scheme: 'http', address: '10.0.0.1', port: 80, ready: true, stripPrefix: false, ...overrides };
}

const route = (host: string, path: string, keys: string[], sticky: boolean): RouteSpec[] =>
  keys.map((key) => ({ host, path, source: 'file', endpoint: endpoint(key), ...(sticky ? { behaviours: { sticky: true as const } } : {}) }));
const table = RouteTable.build([...route('s.test', '/', ['a', 'b', 'c'], true), ...route('s.test', '/api', ['x', 'y'], true), ...route('p.test', '/', ['a', 'b'], false)], ['file'], 1).table;
const policy = { allowEncoded: new Set<never>(), httpsPort: null };
const facts = (host: string, url: string, overrides: Partial<RequestFacts> = {}): RequestFacts => ({ method: 'GET', url, hostHeaders: [host], headerCount: 2, transferEncoding: undefined, encrypted: false, ...overrides });

function forward(request: RequestFacts) {
  const decision = decide(table, request, policy);
  assert.equal(decision.kind, 'forward');
  return decision;
}

describe('berth_sticky values', () => {
  it('reads every berth_sticky value, in order, from one or more Cookie headers', () => {
    assert.deepEqual(stickyValues('a=1; berth_sticky=one;berth_sticky = two ; berth_stickyx=no'), ['one', 'two']);
    assert.deepEqual(stickyValues(['berth_sticky=one', 'x=y; berth_sticky=two']), ['one', 'two']);
    assert.deepEqual(stickyValues(undefined), []);
  });
});

describe('sticky routing', () => {
  const pool = table.match('s.test', '/')!;
  const c = pool.endpoints.find((one) => one.key === 'c')!;
  const idOfC = pool.stickyIdOf(c);

  it('pins a new client with a cookie for the route path, and keeps it pinned without a new cookie', () => {
    const first = forward(facts('s.test', '/'));
    assert.equal(first.kind === 'forward' && first.setCookie, `berth_sticky=${pool.stickyIdOf(first.endpoint)}; Path=/; HttpOnly; SameSite=Lax`);
    for (let i = 0; i < 3; i++) {
      const again = forward(facts('s.test', '/x', { cookie: `berth_sticky=${idOfC}` }));
      assert.equal(again.kind === 'forward' && again.endpoint.key, 'c');
      assert.equal(again.kind === 'forward' && again.setCookie, null);
    }
  });

  it('falls back to picking for an id no longer in the pool, and pins anew', () => {
    const decision = forward(facts('s.test', '/', { cookie: 'berth_sticky=gone', encrypted: true }));
    assert.ok(decision.kind === 'forward' && decision.setCookie?.startsWith(`berth_sticky=${pool.stickyIdOf(decision.endpoint)}; Path=/;`));
    assert.ok(decision.kind === 'forward' && decision.setCookie?.endsWith('; Secure'));
  });

  it('skips the cookie of another route on the same host (sent first, for its longer path)', () => {
    const api = table.match('s.test', '/api')!;
    const idOfY = api.stickyIdOf(api.endpoints.find((one) => one.key === 'y')!);
    const onApi = forward(facts('s.test', '/api/z', { cookie: `berth_sticky=${idOfY}; berth_sticky=${idOfC}` }));
    assert.equal(onApi.kind === 'forward' && onApi.endpoint.key, 'y');
    const onRoot = forward(facts('s.test', '/', { cookie: `berth_sticky=${idOfY}; berth_sticky=${idOfC}` }));
    assert.equal(onRoot.kind === 'forward' && onRoot.endpoint.key, 'c');
    assert.equal(stickyIdFor(api, `berth_sticky=${idOfC}`), undefined);
    assert.ok(onApi.kind === 'forward' && onApi.setCookie === null);
  });

  it('sets nothing and reads nothing on a route that is not sticky', () => {
    const plain = table.match('p.test', '/')!;
    const decision = forward(facts('p.test', '/', { cookie: `berth_sticky=${plain.stickyIdOf(plain.endpoints[1]!)}` }));
    assert.equal(decision.kind === 'forward' && decision.setCookie, null);
    assert.equal(decision.kind === 'forward' && decision.endpoint.key, 'a');
    assert.equal(stickyCookie(plain, plain.endpoints[0]!, undefined, false), null);
  });
});
