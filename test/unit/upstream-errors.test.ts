import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Codes } from '../../src/errors.js';
import { UPSTREAM_TIMEOUT, classifyUpstreamError, mayRetry } from '../../src/proxy/upstream-errors.js';

function err(code: string): Error {
  return Object.assign(new Error('upstream failure'), { code });
}

describe('classifyUpstreamError', () => {
  for (const code of ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN']) {
    it(`maps ${code} to 502, refused, never reached`, () => {
      assert.deepEqual(classifyUpstreamError(err(code)), { code: Codes.upstreamRefused, status: 502, neverReached: true });
    });
  }

  for (const code of ['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']) {
    it(`maps ${code} to 502, reset, possibly reached`, () => {
      assert.deepEqual(classifyUpstreamError(err(code)), { code: Codes.upstreamReset, status: 502, neverReached: false });
    });
  }

  it('maps berth\'s own upstream timeout and ETIMEDOUT to 504', () => {
    assert.deepEqual(classifyUpstreamError(err(UPSTREAM_TIMEOUT)), { code: Codes.upstreamTimeout, status: 504, neverReached: false });
    assert.deepEqual(classifyUpstreamError(err('ETIMEDOUT')), { code: Codes.upstreamTimeout, status: 504, neverReached: false });
  });

  it('maps anything else, including non-errors, to a plain 502', () => {
    for (const error of [err('EWHATEVER'), new Error('no code'), null, undefined, 'text', 42, { code: 7 }]) {
      assert.deepEqual(classifyUpstreamError(error), { code: Codes.upstreamOther, status: 502, neverReached: false });
    }
  });
});

describe('mayRetry', () => {
  const refused = classifyUpstreamError(err('ECONNREFUSED'));
  const reset = classifyUpstreamError(err('ECONNRESET'));
  const timeout = classifyUpstreamError(err(UPSTREAM_TIMEOUT));
  const other = classifyUpstreamError(err('EPROTO'));

  it('retries any bodiless request that never reached the upstream, POST included', () => {
    for (const method of ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE']) assert.equal(mayRetry(method, false, refused), true, method);
  });

  it('retries a reset idempotent request without a body', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']) assert.equal(mayRetry(method, false, reset), true, method);
  });

  it('does not retry a reset non-idempotent request', () => {
    assert.equal(mayRetry('POST', false, reset), false);
    assert.equal(mayRetry('PATCH', false, reset), false);
  });

  it('never retries a request with a body, whose body is already spent', () => {
    assert.equal(mayRetry('GET', true, refused), false);
    assert.equal(mayRetry('PUT', true, reset), false);
    assert.equal(mayRetry('POST', true, refused), false);
  });

  it('never retries after a timeout', () => {
    assert.equal(mayRetry('GET', false, timeout), false);
  });

  it('retries an unclassified failure only for idempotent methods', () => {
    assert.equal(mayRetry('GET', false, other), true);
    assert.equal(mayRetry('POST', false, other), false);
  });
});
