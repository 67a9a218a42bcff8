import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalTarget, matchesPrefix, parsePathPrefix, stripPathPrefix } from '../../src/routes/path.js';

describe('parsePathPrefix', () => {
  it('keeps a plain prefix and drops trailing slashes', () => {
    assert.equal(parsePathPrefix('/api'), '/api');
    assert.equal(parsePathPrefix('/api/'), '/api');
    assert.equal(parsePathPrefix('/api/v1//'), '/api/v1');
    assert.equal(parsePathPrefix(' /api '), '/api');
  });

  it('keeps the root as /', () => {
    assert.equal(parsePathPrefix('/'), '/');
    assert.equal(parsePathPrefix('///'), '/');
  });

  it('accepts dots inside segments', () => {
    assert.equal(parsePathPrefix('/v1.2/.well-known'), '/v1.2/.well-known');
  });

  for (const bad of ['', 'api', 'api/', '/a b', '/a?b', '/a#b', '/a%2e', '/a\\b', '/..', '/a/..', '/a/../b', '/./a', '/a/.']) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      assert.equal(parsePathPrefix(bad), undefined);
    });
  }
});

describe('matchesPrefix', () => {
  it('matches /api itself and paths below it', () => {
    assert.equal(matchesPrefix('/api', '/api'), true);
    assert.equal(matchesPrefix('/api/', '/api'), true);
    assert.equal(matchesPrefix('/api/x', '/api'), true);
    assert.equal(matchesPrefix('/api/x/y', '/api/x'), true);
  });

  it('does not match /apix, /ap or /other against /api', () => {
    assert.equal(matchesPrefix('/apix', '/api'), false);
    assert.equal(matchesPrefix('/api-v2/x', '/api'), false);
    assert.equal(matchesPrefix('/ap', '/api'), false);
    assert.equal(matchesPrefix('/other', '/api'), false);
  });

  it('matches every path against /', () => {
    assert.equal(matchesPrefix('/', '/'), true);
    assert.equal(matchesPrefix('/anything/at/all', '/'), true);
  });

  it('matches the path part of a split /api?x target', () => {
    const target = canonicalTarget('/api?x=1');
    assert.ok(target);
    assert.equal(matchesPrefix(target.path, '/api'), true);
  });
});

describe('stripPathPrefix', () => {
  it('removes the prefix and keeps the rest of the path', () => {
    assert.equal(stripPathPrefix('/api/users/7', '/api'), '/users/7');
  });

  it('keeps the query string', () => {
    assert.equal(stripPathPrefix('/api/users?page=2', '/api'), '/users?page=2');
    assert.equal(stripPathPrefix('/api?page=2', '/api'), '/?page=2');
  });

  it('leaves / when the whole path was the prefix', () => {
    assert.equal(stripPathPrefix('/api', '/api'), '/');
    assert.equal(stripPathPrefix('/api/', '/api'), '/');
  });

  it('leaves the target alone for the root prefix', () => {
    assert.equal(stripPathPrefix('/x/y?z', '/'), '/x/y?z');
  });
});

describe('canonicalTarget', () => {
  it('splits the path from the query', () => {
    assert.deepEqual(canonicalTarget('/api?x=1&y=2'), { path: '/api', query: '?x=1&y=2' });
    assert.deepEqual(canonicalTarget('/api'), { path: '/api', query: '' });
    assert.deepEqual(canonicalTarget('/'), { path: '/', query: '' });
  });

  it('leaves dots inside names alone', () => {
    assert.deepEqual(canonicalTarget('/static/app.v2.js'), { path: '/static/app.v2.js', query: '' });
    assert.deepEqual(canonicalTarget('/.well-known/x'), { path: '/.well-known/x', query: '' });
  });

  it('resolves single-dot segments', () => {
    assert.equal(canonicalTarget('/a/./b')?.path, '/a/b');
    assert.equal(canonicalTarget('/a/.')?.path, '/a/');
  });

  it('resolves double-dot segments', () => {
    assert.equal(canonicalTarget('/a/b/../c')?.path, '/a/c');
    assert.equal(canonicalTarget('/a/b/..')?.path, '/a/');
    assert.equal(canonicalTarget('/api/..')?.path, '/');
  });

  it('resolves percent-encoded dot segments in any case', () => {
    assert.equal(canonicalTarget('/api/%2e%2e/admin')?.path, '/admin');
    assert.equal(canonicalTarget('/api/%2E%2e/admin')?.path, '/admin');
    assert.equal(canonicalTarget('/api/.%2E/admin')?.path, '/admin');
    assert.equal(canonicalTarget('/a/%2e/b')?.path, '/a/b');
  });

  it('so that /api/../admin is not routed as /api', () => {
    const target = canonicalTarget('/api/../admin');
    assert.ok(target);
    assert.equal(matchesPrefix(target.path, '/api'), false);
  });

  it('does not resolve dot segments in the query', () => {
    assert.deepEqual(canonicalTarget('/api?next=../../etc'), { path: '/api', query: '?next=../../etc' });
  });

  for (const escaping of ['/..', '/../a', '/%2e%2e/a', '/a/../../b', '/a/%2E%2E/%2e%2e/b']) {
    it(`rejects ${escaping}, which escapes the root`, () => {
      assert.equal(canonicalTarget(escaping), undefined);
    });
  }

  for (const notOrigin of ['*', 'http://a.test/x', 'a.test:443', '', '?x=1']) {
    it(`rejects the non-origin-form target ${JSON.stringify(notOrigin)}`, () => {
      assert.equal(canonicalTarget(notOrigin), undefined);
    });
  }
});
