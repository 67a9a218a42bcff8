import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { labelFilters, meetsConstraints, type Constraint } from '../../src/docker/constraints.js';

const prod: Constraint = { label: 'com.example.stack', value: 'prod' };
const managed: Constraint = { label: 'com.example.managed', value: null };

describe('constraints', () => {
  it('become Docker label filters, key=value or the bare key', () => {
    assert.deepEqual(labelFilters([prod, managed]), ['com.example.stack=prod', 'com.example.managed']);
  });

  const cases: Array<[string, Record<string, string>, boolean]> = [
    ['both labels, the right value', { 'com.example.stack': 'prod', 'com.example.managed': '' }, true],
    ['the wrong value', { 'com.example.stack': 'dev', 'com.example.managed': 'yes' }, false],
    ['a label missing', { 'com.example.stack': 'prod' }, false],
    ['no labels at all', {}, false],
  ];
  for (const [what, labels, expected] of cases) {
    it(`${expected ? 'accepts' : 'refuses'} a container with ${what}`, () => {
      assert.equal(meetsConstraints(labels, [prod, managed]), expected);
    });
  }

  it('accepts every container when there is no constraint', () => {
    assert.equal(meetsConstraints({}, []), true);
  });

  it('does not take a label inherited from Object.prototype as present', () => {
    assert.equal(meetsConstraints({}, [{ label: 'constructor', value: null }]), false);
  });
});
