import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isWildcard, normalizeRequestHost, parseHostPattern, toDnsLabel } from '../../src/routes/host.js';

describe('normalizeRequestHost', () => {
  it('lowercases and drops the port and a trailing dot', () => {
    assert.equal(normalizeRequestHost('App.Example.TEST'), 'app.example.test');
    assert.equal(normalizeRequestHost('app.example.test:8080'), 'app.example.test');
    assert.equal(normalizeRequestHost('app.example.test.'), 'app.example.test');
    assert.equal(normalizeRequestHost('App.Example.Test.:443'), 'app.example.test');
  });

  it('gives an empty string for a missing or empty Host header', () => {
    assert.equal(normalizeRequestHost(undefined), '');
    assert.equal(normalizeRequestHost(''), '');
  });

  it('keeps a bracketed IPv6 literal and drops its port', () => {
    assert.equal(normalizeRequestHost('[::1]:8080'), '[::1]');
    assert.equal(normalizeRequestHost('[FE80::1]'), '[fe80::1]');
  });

  it('trims surrounding whitespace', () => {
    assert.equal(normalizeRequestHost('  a.test  '), 'a.test');
  });
});

describe('parseHostPattern', () => {
  it('stores a hostname lowercased and without a trailing dot', () => {
    assert.equal(parseHostPattern(' App.Example.Test. '), 'app.example.test');
  });

  it('accepts a wildcard and a single label', () => {
    assert.equal(parseHostPattern('*.Example.test'), '*.example.test');
    assert.equal(parseHostPattern('localhost'), 'localhost');
  });

  it('accepts labels of 63 characters and rejects 64', () => {
    assert.equal(parseHostPattern(`${'a'.repeat(63)}.test`), `${'a'.repeat(63)}.test`);
    assert.equal(parseHostPattern(`${'a'.repeat(64)}.test`), undefined);
  });

  it('rejects a name longer than 253 characters', () => {
    const long = Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.');
    assert.equal(parseHostPattern(long), undefined);
  });

  for (const bad of ['', ' ', '*', '*.', '.', 'a..b', 'foo_bar.test', '-a.test', 'a-.test', 'a.*.test', '*.*.test', 'x*.test', 'host:80', 'a b.test', 'ünï.test', 'a/b', '**.test']) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      assert.equal(parseHostPattern(bad), undefined);
    });
  }
});

describe('isWildcard', () => {
  it('tells wildcard patterns from exact names', () => {
    assert.equal(isWildcard('*.example.test'), true);
    assert.equal(isWildcard('example.test'), false);
  });
});

describe('toDnsLabel', () => {
  it('lowercases and replaces runs of invalid characters with one hyphen', () => {
    assert.equal(toDnsLabel('My_App.v2'), 'my-app-v2');
    assert.equal(toDnsLabel('a__b..c'), 'a-b-c');
    assert.equal(toDnsLabel('a--b'), 'a-b');
  });

  it('trims hyphens at both ends', () => {
    assert.equal(toDnsLabel('_web_'), 'web');
    assert.equal(toDnsLabel('--web--'), 'web');
  });

  it('cuts to 63 characters without leaving a trailing hyphen', () => {
    const label = toDnsLabel('a'.repeat(62) + '_b');
    assert.ok(label.length <= 63);
    assert.match(label, /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/);
    assert.equal(toDnsLabel('b'.repeat(100)).length, 63);
  });

  it('gives an empty string when nothing usable is left', () => {
    assert.equal(toDnsLabel('___'), '');
    assert.equal(toDnsLabel(''), '');
  });

  it('always gives something parseHostPattern accepts, or nothing', () => {
    for (const name of ['Web', 'a_b', '1st', 'x'.repeat(80), '-_-', 'shop-web-1', 'café', 'UPPER_lower.mixed']) {
      const label = toDnsLabel(name);
      if (label !== '') assert.equal(parseHostPattern(label), label, name);
    }
  });
});
