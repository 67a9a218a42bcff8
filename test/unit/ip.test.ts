import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bracketed, plainAddress, unbracketed } from '../../src/util/ip.js';

describe('plainAddress', () => {
  it('strips ::ffff: from an IPv4-mapped address, in any case', () => {
    assert.equal(plainAddress('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(plainAddress('::FFFF:192.168.0.1'), '192.168.0.1');
  });

  it('leaves plain IPv4, IPv6 and a mapped prefix without an IPv4 address alone', () => {
    for (const address of ['10.1.2.3', '::1', '2001:db8::1', '::ffff:', '::ffff:abcd', '::ffff:1.2.3', '::ffff:10.1.2.3.4']) {
      assert.equal(plainAddress(address), address);
    }
  });
});

describe('bracketed and unbracketed', () => {
  it('brackets IPv6 literals only, once', () => {
    assert.equal(bracketed('::1'), '[::1]');
    assert.equal(bracketed('[::1]'), '[::1]');
    assert.equal(bracketed('10.0.0.1'), '10.0.0.1');
    assert.equal(bracketed('app.internal'), 'app.internal');
  });

  it('removes the brackets of a literal and round-trips with bracketed', () => {
    assert.equal(unbracketed('[2001:db8::1]'), '2001:db8::1');
    assert.equal(unbracketed('2001:db8::1'), '2001:db8::1');
    assert.equal(unbracketed('[broken'), '[broken');
    for (const address of ['::1', 'fe80::1', '10.0.0.1', 'name']) assert.equal(unbracketed(bracketed(address)), address);
  });
});
