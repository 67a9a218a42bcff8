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
  { host: 'secure.test', path: '/', source: 'docker', endpoint: endpoint('secure'), tls: { redirect: true, hsts: null, explicit: true } },
  { host: 'both.test', path: '/', source: 'docker', endpoint: endpoint('both'), tls: { redirect: false, hsts: null, explicit: true } },
  { host: 'old.test', path: '/', source: 'file', redirect: { location: 'https://new.test', code: 301, stripPrefix: false, origin: 'routes.yml:1' } },
];
const table = RouteTable.build(specs, ['file', 'docker'], 1).table;
const none = new Set<EncodedChar>();
const plain = { allowEncoded: none, httpsPort: null };

function request(url: string, overrides: Partial<RequestFacts> = {}): RequestFacts {
  return { method: 'GET', url, hostHeaders: ['app.test'], headerCount: 3, transferEncoding: undefined, encrypted: false, ...overrides };
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
      assert.deepEqual(refused(decide(table, facts, plain)), [status, code]);
    });
  }

  it('counts a refusal of a matched route under that route', () => {
    const decision = decide(table, request('/', { hostHeaders: ['down.test'] }), plain);
    assert.equal(decision.pool?.host, 'down.test');
  });
});

describe('decide: forwarding', () => {
  it('forwards the canonical path and keeps the query as sent', () => {
    const decision = decide(table, request('/a/./b/../c?x=%2F&y'), plain);
    assert.equal(decision.kind, 'forward');
    assert.equal(decision.kind === 'forward' && decision.target, '/a/c?x=%2F&y');
  });

  it('allows an encoded slash where the setting allows it', () => {
    assert.equal(decide(table, request('/a%2Fb'), { allowEncoded: new Set(['slash']), httpsPort: null }).kind, 'forward');
  });

  it('lets a route allow an encoded slash on its own, and only that', () => {
    const raw = (url: string) => decide(table, request(url, { hostHeaders: ['raw.test'] }), plain);
    assert.equal(raw('/a%2fb').kind, 'forward');
    assert.deepEqual(refused(raw('/a%5Cb')), [400, Codes.requestEncoded]);
  });

  it('routes an absolute-form target by its authority', () => {
    const decision = decide(table, request('http://app.test/x', { hostHeaders: [] }), plain);
    assert.equal(decision.kind === 'forward' && decision.host, 'app.test');
  });

  it('answers a redirect route with its location and the request path', () => {
    const decision = decide(table, request('/p?q', { hostHeaders: ['old.test'] }), plain);
    assert.deepEqual(decision.kind === 'redirect' && [decision.code, decision.location], [301, 'https://new.test/p?q']);
  });

  it('builds the upstream path from base path and stripped prefix, and names the prefix it stripped', () => {
    const decision = decide(table, request('/api/users?id=1'), plain);
    assert.ok(decision.kind === 'forward');
    assert.equal(upstreamPath(decision.endpoint, decision.target, decision.pool), '/v2/users?id=1');
    assert.equal(strippedPrefix(decision.endpoint, decision.pool), '/api');
  });

  it('accepts a Host with a port, an IPv6 literal or an empty port', () => {
    for (const host of ['app.test:8080', 'APP.test', 'app.test:', '[::1]:80', '127.0.0.1']) {
      assert.notDeepEqual(refused(decide(table, request('/', { hostHeaders: [host] }), plain))?.[0], 400, host);
    }
  });
});

describe('decide: HTTPS routes', () => {
  const withHttps = { allowEncoded: none, httpsPort: 443 };

  it('sends plain requests to an HTTPS route to https:// with a 308, path and query kept', () => {
    const decision = decide(table, request('/a/b?c=1', { hostHeaders: ['Secure.test:80'] }), withHttps);
    assert.deepEqual(decision.kind === 'redirect' && [decision.code, decision.location], [308, 'https://secure.test/a/b?c=1']);
  });

  it('names the HTTPS port in the redirect when it is not 443', () => {
    const decision = decide(table, request('/', { hostHeaders: ['secure.test'] }), { allowEncoded: none, httpsPort: 8443 });
    assert.equal(decision.kind === 'redirect' && decision.location, 'https://secure.test:8443/');
  });

  it('forwards encrypted requests, plain ones to a route that opts out of the redirect, and everything while HTTPS is off', () => {
    assert.equal(decide(table, request('/', { hostHeaders: ['secure.test'], encrypted: true }), withHttps).kind, 'forward');
    assert.equal(decide(table, request('/', { hostHeaders: ['both.test'] }), withHttps).kind, 'forward');
    assert.equal(decide(table, request('/', { hostHeaders: ['secure.test'] }), plain).kind, 'forward');
  });
});
