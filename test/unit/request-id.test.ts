import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextRequestId } from '../../src/util/request-id.js';

describe('request ids', () => {
  it('are shaped as version 4 UUIDs', () => {
    for (let i = 0; i < 100; i++) assert.match(nextRequestId(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('never repeat within a process', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(nextRequestId());
    assert.equal(seen.size, 100_000);
  });
});
