import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { framingHeaders, removeHopByHop, requestFraming, upstreamRequestHeaders, type ClientFacts, type HeaderPolicy } from '../../src/proxy/headers.js';

const untrusted: ClientFacts = { remoteAddress: '203.0.113.7', trusted: false, localPort: 8080, encrypted: false, upgrade: false };
const trusted: ClientFacts = { ...untrusted, remoteAddress: '10.0.0.2', trusted: true };
const fixedId = () => 'generated-id';
const defaults: HeaderPolicy = { keepUnderscores: false, strippedPrefix: null };

function forward(headers: IncomingHttpHeaders, client: ClientFacts = untrusted, policy: HeaderPolicy = defaults): IncomingHttpHeaders {
  return upstreamRequestHeaders({ host: 'app.example.test', ...headers }, client, policy, fixedId);
}

describe('removeHopByHop', () => {
  it('removes the standard hop-by-hop headers and keeps end-to-end ones', () => {
    const headers: IncomingHttpHeaders = {
      connection: 'keep-alive',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      te: 'trailers',
      trailer: 'x-checksum',
      upgrade: 'h2c',
      'proxy-authorization': 'Basic eA==',
      'proxy-authenticate': 'Basic',
      'content-type': 'text/plain',
      accept: '*/*',
    };
    removeHopByHop(headers);
    assert.deepEqual(headers, { 'content-type': 'text/plain', accept: '*/*' });
  });

  it('removes the headers the Connection header names, whatever their case and spacing', () => {
    const headers: IncomingHttpHeaders = { connection: 'close,  X-Secret ,x-other', 'x-secret': 's', 'x-other': 'o', 'x-kept': 'k' };
    removeHopByHop(headers);
    assert.deepEqual(headers, { 'x-kept': 'k' });
  });

  it('reads a Connection header given as a list', () => {
    const headers: Record<string, string | string[]> = { connection: ['x-a', 'x-b, x-c'], 'x-a': '1', 'x-b': '2', 'x-c': '3', 'x-d': '4' };
    removeHopByHop(headers);
    assert.deepEqual(headers, { 'x-d': '4' });
  });
});

describe('upstreamRequestHeaders', () => {
  it('strips hop-by-hop headers, including those named by Connection, and keeps the Host header', () => {
    const out = forward({ connection: 'keep-alive, x-hop', 'keep-alive': 'timeout=5', 'x-hop': '1', te: 'trailers', 'x-end': '2' });
    assert.equal(out['connection'], undefined);
    assert.equal(out['keep-alive'], undefined);
    assert.equal(out['x-hop'], undefined);
    assert.equal(out['te'], undefined);
    assert.equal(out['x-end'], '2');
    assert.equal(out.host, 'app.example.test');
  });

  it('does not change the headers it was given', () => {
    const input: IncomingHttpHeaders = { host: 'a.test', connection: 'x-hop', 'x-hop': '1' };
    upstreamRequestHeaders(input, untrusted, defaults, fixedId);
    assert.deepEqual(input, { host: 'a.test', connection: 'x-hop', 'x-hop': '1' });
  });

  it('keeps Connection: upgrade and Upgrade for a WebSocket handshake', () => {
    const out = forward({ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' }, { ...untrusted, upgrade: true });
    assert.equal(out['connection'], 'upgrade');
    assert.equal(out['upgrade'], 'websocket');
    assert.equal(out['sec-websocket-key'], 'k');
  });

  it('sets X-Forwarded-For to the client address for an untrusted client, dropping its claimed chain', () => {
    const out = forward({ 'x-forwarded-for': '1.2.3.4' });
    assert.equal(out['x-forwarded-for'], '203.0.113.7');
  });

  it('appends the client address to X-Forwarded-For from a trusted proxy', () => {
    const out = forward({ 'x-forwarded-for': '198.51.100.1, 198.51.100.2' }, trusted);
    assert.equal(out['x-forwarded-for'], '198.51.100.1, 198.51.100.2, 10.0.0.2');
  });

  it('sets X-Forwarded-For to the trusted proxy itself when it sent none', () => {
    assert.equal(forward({}, trusted)['x-forwarded-for'], '10.0.0.2');
  });

  it('overwrites X-Forwarded-Proto, -Host and -Port claimed by an untrusted client', () => {
    const out = forward({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.test', 'x-forwarded-port': '443' });
    assert.equal(out['x-forwarded-proto'], 'http');
    assert.equal(out['x-forwarded-host'], 'app.example.test');
    assert.equal(out['x-forwarded-port'], '8080');
  });

  it('sets X-Forwarded-Proto, -Host and -Port when the client sent none', () => {
    const out = forward({}, { ...untrusted, encrypted: true, localPort: 443 });
    assert.equal(out['x-forwarded-proto'], 'https');
    assert.equal(out['x-forwarded-host'], 'app.example.test');
    assert.equal(out['x-forwarded-port'], '443');
  });

  it('keeps X-Forwarded-Proto, -Host and -Port from a trusted proxy', () => {
    const out = forward({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'public.test', 'x-forwarded-port': '443' }, trusted);
    assert.equal(out['x-forwarded-proto'], 'https');
    assert.equal(out['x-forwarded-host'], 'public.test');
    assert.equal(out['x-forwarded-port'], '443');
  });

  it('removes Forwarded from an untrusted client and keeps it from a trusted proxy', () => {
    assert.equal(forward({ forwarded: 'for=1.2.3.4;proto=https' })['forwarded'], undefined);
    assert.equal(forward({ forwarded: 'for=1.2.3.4;proto=https' }, trusted)['forwarded'], 'for=1.2.3.4;proto=https');
  });

  it('keeps a sane X-Request-Id', () => {
    for (const id of ['abc-123', '0f8fad5b-d9cb-469f-a165-70867728950e', 'req:1@edge/2=x+y.z']) {
      assert.equal(forward({ 'x-request-id': id })['x-request-id'], id);
    }
  });

  it('generates an X-Request-Id when absent', () => {
    assert.equal(forward({})['x-request-id'], 'generated-id');
  });

  it('generates a UUID by default', () => {
    const out = upstreamRequestHeaders({ host: 'a.test' }, untrusted);
    assert.match(String(out['x-request-id']), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  for (const hostile of ['', 'has space', '<script>', 'a'.repeat(201), 'semi;colon', 'quote"d', 'a, b']) {
    it(`replaces the hostile X-Request-Id ${JSON.stringify(hostile.length > 20 ? hostile.slice(0, 10) + '...' : hostile)}`, () => {
      assert.equal(forward({ 'x-request-id': hostile })['x-request-id'], 'generated-id');
    });
  }

  it('does not let a Connection header naming x-forwarded-for remove berth\'s own X-Forwarded-For', () => {
    const out = forward({ connection: 'x-forwarded-for, x-forwarded-proto, x-forwarded-host, x-forwarded-port, x-request-id', 'x-forwarded-for': '1.2.3.4' });
    assert.equal(out['x-forwarded-for'], '203.0.113.7');
    assert.equal(out['x-forwarded-proto'], 'http');
    assert.equal(out['x-forwarded-host'], 'app.example.test');
    assert.equal(out['x-forwarded-port'], '8080');
    assert.equal(typeof out['x-request-id'], 'string');
  });

  it('does not let a Connection header naming host remove the Host header the route was chosen on', () => {
    const out = forward({ connection: 'host' });
    assert.equal(out.host, 'app.example.test');
  });
});

describe('upstreamRequestHeaders: what a client may not send through', () => {
  it('drops Proxy and every Proxy-* header (httpoxy)', () => {
    const out = forward({ proxy: 'http://evil.test', 'proxy-foo': '1', 'proxyish': 'kept' });
    assert.equal(out['proxy'], undefined);
    assert.equal(out['proxy-foo'], undefined);
    assert.equal(out['proxyish'], 'kept');
  });

  it('drops header names with underscores unless the policy keeps them', () => {
    assert.equal(forward({ x_forwarded_for: '6.6.6.6' })['x_forwarded_for'], undefined);
    assert.equal(forward({ x_app: '1' }, untrusted, { ...defaults, keepUnderscores: true })['x_app'], '1');
  });

  it('drops scheme and path overrides from untrusted clients and keeps them from trusted ones', () => {
    const spoofed = { 'x-forwarded-ssl': 'on', 'x-forwarded-scheme': 'https', 'front-end-https': 'on', 'x-original-url': '/admin', 'x-rewrite-url': '/admin' };
    const fromStranger = forward(spoofed);
    for (const name of Object.keys(spoofed)) assert.equal(fromStranger[name], undefined, name);
    assert.equal(forward(spoofed, trusted)['x-forwarded-ssl'], 'on');
  });

  it('sends the stripped prefix as X-Forwarded-Prefix and never the client\'s own', () => {
    assert.equal(forward({ 'x-forwarded-prefix': '/evil' }, untrusted, { ...defaults, strippedPrefix: '/api' })['x-forwarded-prefix'], '/api');
    assert.equal(forward({ 'x-forwarded-prefix': '/evil' })['x-forwarded-prefix'], undefined);
    assert.equal(forward({ 'x-forwarded-prefix': '/outer' }, trusted, { ...defaults, strippedPrefix: '/api' })['x-forwarded-prefix'], '/outer/api');
  });

  it('leaves framing and Expect out: berth sets framing itself and answered Expect', () => {
    const out = forward({ 'content-length': '5', 'transfer-encoding': 'chunked', expect: '100-continue' });
    assert.deepEqual([out['content-length'], out['transfer-encoding'], out['expect']], [undefined, undefined, undefined]);
  });
});

describe('requestFraming and framingHeaders', () => {
  it('frames chunked bodies as chunked and lengths as lengths, for every method', () => {
    for (const method of ['GET', 'DELETE', 'OPTIONS', 'POST']) {
      assert.deepEqual(framingHeaders(requestFraming({ 'transfer-encoding': 'chunked' }), method), ['transfer-encoding', 'chunked']);
      assert.deepEqual(framingHeaders(requestFraming({ 'content-length': '7' }), method), ['content-length', '7']);
    }
  });

  it('states a zero length for bodiless POST, PUT and PATCH and nothing for the others', () => {
    assert.deepEqual(framingHeaders(requestFraming({}), 'POST'), ['content-length', '0']);
    assert.deepEqual(framingHeaders(requestFraming({ 'content-length': '0' }), 'PATCH'), ['content-length', '0']);
    assert.deepEqual(framingHeaders(requestFraming({}), 'GET'), []);
    assert.deepEqual(framingHeaders(requestFraming({ 'content-length': '0' }), 'DELETE'), []);
  });
});
