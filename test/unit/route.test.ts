import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Codes } from '../../src/errors.js';
import { decide, strippedPrefix, upstreamPath, type Decision, type RequestFacts } from '../../src/proxy/route.js';
import type { EncodedChar } from '../../src/proxy/target.js';
import { RouteTable } from '../../src/routes/table.js';
import type { Endpoint, RouteSpec } from '../../src/routes/types.js';

function endpoint(key: string, overrides: Partial<Endpoint> = {}): Endpoint {
  return { key, scheme: 'http', address: '10.0.0.1', port: 80, ready: true, stripPrefix: false, ...overrides };
}

const specs: RouteSpec[] = [
  { host: 'app.test', path: '/', source: 'docker', endpoint: endpoint('app') },
  { host: 'app.test', path: '/api', source: 'docker', endpoint: endpoint('api', { stripPrefix: true, basePath: '/v2' }) },
  { host: 'raw.test', path: '/', source: 'docker', endpoint: endpoint('raw', { allowEncoded: ['slash'] }) },
  { host: 'down.test', path: '/', source: 'docker', endpoint: endpoint('down', { ready: false }) },
  { host: 'old.test', path: '/', source: 'file', redirect: { location: 'https://new.test', code: 301, stripPrefix: false, origin: 'routes.yml:1' } },
];
const table = RouteTable.build(specs, ['file', 'docker'], 1).table;
const none = new Set<EncodedChar>();

function request(url: string, overrides: Partial<RequestFacts> = {}): RequestFacts {
  return { method: 'GET', url, hostHeaders: ['app.test'], headerCount: 3, transferEncoding: undefined, ...overrides };
}

function refused(decision: Decision): [number, string] | null {
  return decision.kind === 'refuse' ? [decision.status, decision.code] : null;
}

describe('decide: refusals', () => {
  const cases: Array<[string, RequestFacts, number, string]> = [
    ['TRACE', request('/', { method: 'TRACE' }), 405, Codes.requestMethod],
    ['CONNECT', request('/', { method: 'CONNECT' }), 405, Codes.requestMethod],
    ['101 header lines', request('/', { headerCount: 101 }), 431, Codes.requestHeaders],
    ['a coding that does not end in chunked', request('/', { method: 'POST', transferEncoding: 'chunked, gzip' }), 400, Codes.requestFraming],
    ['a coding besides chunked', request('/', { method: 'POST', transferEncoding: 'gzip, chunked' }), 501, Codes.requestFraming],
    ['two Host headers', request('/', { hostHeaders: ['app.test', 'app.test'] }), 400, Codes.requestHost],
    ['a Host with userinfo', request('/', { hostHeaders: ['app.test:@evil.test'] }), 400, Codes.requestHost],
    ['a Host with two ports', request('/', { hostHeaders: ['app.test:80:81'] }), 400, Codes.requestHost],
    ['a backslash', request('/x/..\\admin'), 400, Codes.requestTarget],
    ['a fragment', request('/x#y'), 400, Codes.requestTarget],
    ['dot segments above the root', request('/../etc'), 400, Codes.requestTarget],
    ['an encoded slash', request('/a%2Fb'), 400, Codes.requestEncoded],
    ['an encoded backslash', request('/a%5cb'), 400, Codes.requestEncoded],
    ['an encoded NUL', request('/a%00b'), 400, Codes.requestEncoded],
    ['an unknown host', request('/', { hostHeaders: ['nowhere.test'] }), 404, Codes.noRoute],
    ['a pool with no ready endpoint', request('/', { hostHeaders: ['down.test'] }), 503, Codes.noEndpoint],
  ];
  for (const [name, facts, status, code] of cases) {
    it(`refuses ${name} with ${status} ${code}`, () => {
      assert.deepEqual(refused(decide(table, facts, { allowEncoded: none })), [status, code]);
    });
  }

  it('counts a refusal of a matched route under that route', () => {
    const decision = decide(table, request('/', { hostHeaders: ['down.test'] }), { allowEncoded: none });
    assert.equal(decision.pool?.host, 'down.test');
  });
});

describe('decide: forwarding', () => {
  it('forwards the canonical path and keeps the query as sent', () => {
    const decision = decide(table, request('/a/./b/../c?x=%2F&y'), { allowEncoded: none });
    assert.equal(decision.kind, 'forward');
    assert.equal(decision.kind === 'forward' && decision.target, '/a/c?x=%2F&y');
  });

  it('allows an encoded slash where the setting allows it', () => {
    assert.equal(decide(table, request('/a%2Fb'), { allowEncoded: new Set(['slash']) }).kind, 'forward');
  });

  it('lets a route allow an encoded slash on its own, and only that', () => {
    const raw = (url: string) => decide(table, request(url, { hostHeaders: ['raw.test'] }), { allowEncoded: none });
    assert.equal(raw('/a%2fb').kind, 'forward');
    assert.deepEqual(refused(raw('/a%5Cb')), [400, Codes.requestEncoded]);
  });

  it('routes an absolute-form target by its authority', () => {
    const decision = decide(table, request('http://app.test/x', { hostHeaders: [] }), { allowEncoded: none });
    assert.equal(decision.kind === 'forward' && decision.host, 'app.test');
  });

  it('answers a redirect route with its location and the request path', () => {
    const decision = decide(table, request('/p?q', { hostHeaders: ['old.test'] }), { allowEncoded: none });
    assert.deepEqual(decision.kind === 'redirect' && [decision.code, decision.location], [301, 'https://new.test/p?q']);
  });

  it('builds the upstream path from base path and stripped prefix, and names the prefix it stripped', () => {
    const decision = decide(table, request('/api/users?id=1'), { allowEncoded: none });
    assert.ok(decision.kind === 'forward');
    assert.equal(upstreamPath(decision.endpoint, decision.target, decision.pool), '/v2/users?id=1');
    assert.equal(strippedPrefix(decision.endpoint, decision.pool), '/api');
  });

  it('accepts a Host with a port, an IPv6 literal or an empty port', () => {
    for (const host of ['app.test:8080', 'APP.test', 'app.test:', '[::1]:80', '127.0.0.1']) {
      assert.notDeepEqual(refused(decide(table, request('/', { hostHeaders: [host] }), { allowEncoded: none }))?.[0], 400, host);
    }
  });
});
