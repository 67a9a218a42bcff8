import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { upstreamTlsOptions } from '../../src/proxy/upstream-tls.js';
import type { Endpoint } from '../../src/routes/types.js';

const base: Endpoint = { key: 'k', scheme: 'https', address: '10.0.0.1', port: 443, ready: true, stripPrefix: false };
const PEM = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';

describe('upstreamTlsOptions', () => {
  it('does not verify containers, which carry no verify flag', () => {
    assert.deepEqual(upstreamTlsOptions({ ...base, container: { id: 'c', name: 'web' } }), { rejectUnauthorized: false });
  });

  it('verifies file routes against the bundled roots when they name no CA', () => {
    assert.deepEqual(upstreamTlsOptions({ ...base, verifyTls: true }), { rejectUnauthorized: true });
  });

  it('verifies against the route\'s CA when it names one', () => {
    assert.deepEqual(upstreamTlsOptions({ ...base, verifyTls: true, ca: PEM }), { rejectUnauthorized: true, ca: PEM });
  });

  it('passes no CA when verification is off', () => {
    assert.deepEqual(upstreamTlsOptions({ ...base, verifyTls: false, ca: PEM }), { rejectUnauthorized: false });
  });
});
