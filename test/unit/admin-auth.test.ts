import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { bearerMatches } from '../../src/admin/auth.js';
import { isLoopback } from '../../src/config/cidr.js';
import { createAccessLog } from '../../src/proxy/access-log.js';
import { combineObservers, type RequestRecord } from '../../src/proxy/observer.js';

describe('bearerMatches', () => {
  it('accepts the right token with any case of the scheme', () => {
    assert.equal(bearerMatches('Bearer s3cret', 's3cret'), true);
    assert.equal(bearerMatches('bearer   s3cret', 's3cret'), true);
  });

  it('refuses a missing header, another scheme, a wrong token, a prefix or an empty token', () => {
    for (const header of [undefined, '', 'Basic s3cret', 'Bearer s3cre', 'Bearer s3cret2', 'Bearer ', 's3cret']) {
      assert.equal(bearerMatches(header, 's3cret'), false, String(header));
    }
  });
});

describe('isLoopback', () => {
  it('knows loopback hosts from the rest', () => {
    assert.deepEqual(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopback), [true, true, true, true]);
    assert.deepEqual(['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.test'].map(isLoopback), [false, false, false, false, false]);
  });
});

const record: RequestRecord = { method: 'GET', host: 'a.test', path: '/x', routeHost: 'a.test', status: 200, code: null, durationMs: 1.2345, bytes: 120, upstream: '10.0.0.1:80', container: 'web', requestId: 'id-1', aborted: false };

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) });
  return { lines, logger: pino({ level: 'info' }, sink) };
}

describe('createAccessLog', () => {
  it('writes every request as one line with stable fields', async () => {
    const { lines, logger } = capture();
    createAccessLog(logger, 1).request(record);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lines.length, 1);
    const { host, method, path, status, durationMs, bytes, upstream, container, requestId, msg } = lines[0]!;
    assert.deepEqual({ host, method, path, status, durationMs, bytes, upstream, container, requestId, msg }, { host: 'a.test', method: 'GET', path: '/x', status: 200, durationMs: 1.23, bytes: 120, upstream: '10.0.0.1:80', container: 'web', requestId: 'id-1', msg: 'request' });
  });

  it('keeps the sampled share of requests', async () => {
    const { lines, logger } = capture();
    const draws = [0.05, 0.5, 0.09, 0.95, 0.1];
    const log = createAccessLog(logger, 0.1, () => draws.shift()!);
    for (let i = 0; i < 5; i++) log.request(record);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lines.length, 2);
  });
});

describe('combineObservers', () => {
  it('tells every observer, skipping the calls one does not take', () => {
    const seen: string[] = [];
    const all = combineObservers([{ request: () => seen.push('a:request'), retry: () => seen.push('a:retry') }, { request: () => seen.push('b:request') }]);
    all.request(record);
    all.retry();
    all.websockets(1);
    assert.deepEqual(seen, ['a:request', 'b:request', 'a:retry']);
  });
});
