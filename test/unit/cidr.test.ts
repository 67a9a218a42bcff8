import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { noAddresses, parseAddressList, type AddressMatcher } from '../../src/config/cidr.js';

function matcher(raw: string): AddressMatcher {
  const parsed = parseAddressList(raw);
  assert.ok(parsed.ok, raw);
  return parsed.value;
}

describe('parseAddressList', () => {
  it('matches IPv4 addresses inside a CIDR range and not outside it', () => {
    const m = matcher('10.0.0.0/8');
    assert.equal(m.matches('10.0.0.1'), true);
    assert.equal(m.matches('10.255.255.255'), true);
    assert.equal(m.matches('11.0.0.1'), false);
    assert.equal(m.matches('9.255.255.255'), false);
  });

  it('treats a single IPv4 address as a /32', () => {
    const m = matcher('192.168.1.5');
    assert.equal(m.matches('192.168.1.5'), true);
    assert.equal(m.matches('192.168.1.6'), false);
  });

  it('reads a comma-separated list with spaces and empty entries', () => {
    const m = matcher(' 10.0.0.0/8 , ,172.16.0.0/12,');
    assert.deepEqual(m.ranges, ['10.0.0.0/8', '172.16.0.0/12']);
    assert.equal(m.matches('172.31.0.1'), true);
    assert.equal(m.matches('172.32.0.1'), false);
  });

  it('matches IPv6 addresses inside a range and single IPv6 addresses', () => {
    const m = matcher('fd00::/8,2001:db8::1');
    assert.equal(m.matches('fd12:3456::1'), true);
    assert.equal(m.matches('fe80::1'), false);
    assert.equal(m.matches('2001:db8::1'), true);
    assert.equal(m.matches('2001:db8::2'), false);
  });

  it('matches ::ffff:-mapped IPv4 clients against IPv4 ranges', () => {
    const m = matcher('10.0.0.0/8');
    assert.equal(m.matches('::ffff:10.1.2.3'), true);
    assert.equal(m.matches('::ffff:11.1.2.3'), false);
  });

  it('matches the IPv6 loopback only when listed', () => {
    assert.equal(matcher('127.0.0.1').matches('::1'), false);
    assert.equal(matcher('::1').matches('::1'), true);
  });

  it('matches everything with 0.0.0.0/0 for IPv4 only', () => {
    const m = matcher('0.0.0.0/0');
    assert.equal(m.matches('8.8.8.8'), true);
    assert.equal(m.matches('::ffff:8.8.8.8'), true);
    assert.equal(m.matches('2001:db8::1'), false);
  });

  it('matches nothing for an empty list', () => {
    const m = matcher('');
    assert.deepEqual(m.ranges, []);
    assert.equal(m.matches('127.0.0.1'), false);
  });

  it('does not match garbage addresses', () => {
    const m = matcher('0.0.0.0/0');
    assert.equal(m.matches(''), false);
    assert.equal(m.matches('not-an-ip'), false);
    assert.equal(m.matches('::ffff:'), false);
  });

  for (const bad of ['10.0.0.0/33', '::1/129', '10.0.0.0/-1', '10.0.0.0/x', '10.0.0.0/', 'abc', '10.0.0', '256.0.0.1', '10.0.0.0/8,nope', 'example.com']) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      assert.equal(parseAddressList(bad).ok, false);
    });
  }
});

describe('noAddresses', () => {
  it('matches nothing', () => {
    assert.equal(noAddresses.matches('127.0.0.1'), false);
    assert.deepEqual(noAddresses.ranges, []);
  });
});
