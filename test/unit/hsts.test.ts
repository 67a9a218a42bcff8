import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hasPublicName, parseHsts } from '../../src/routes/hsts.js';

describe('parseHsts', () => {
  const cases: Array<[string, string | undefined]> = [
    ['31536000', 'max-age=31536000'],
    ['max-age=600', 'max-age=600'],
    ['63072000; includeSubDomains; preload', 'max-age=63072000; includeSubDomains; preload'],
    [' 60 ;PRELOAD; includesubdomains ', 'max-age=60; includeSubDomains; preload'],
    ['0', 'max-age=0'],
    ['forever', undefined],
    ['60; preload; preload', undefined],
    ['60; always', undefined],
    ['', undefined],
  ];
  for (const [value, expected] of cases) {
    it(`reads ${JSON.stringify(value)} as ${expected === undefined ? 'unreadable' : JSON.stringify(expected)}`, () => {
      assert.equal(parseHsts(value), expected);
    });
  }
});

describe('hasPublicName', () => {
  it('is true for ordinary public names', () => {
    assert.deepEqual(['shop.example.com', 'a.b.co.uk'].map(hasPublicName), [true, true]);
  });

  it('is false for names no public CA issues for', () => {
    const names = ['localhost', 'app.localhost', 'printer.local', 'db.internal', 'nas.home.arpa', 'intranet', '10.0.0.1', '[::1]', 'site.test', 'x.example', 'y.invalid'];
    assert.deepEqual(names.filter(hasPublicName), []);
  });
});
