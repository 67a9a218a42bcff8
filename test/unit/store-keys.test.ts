// What Redis and etcd keys read as: Hipache's frontends, the Go proxies' /hosts/ keys, berth's entries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Codes } from '../../src/errors.js';
import { readEtcdKey, readHostKey } from '../../src/stores/etcd/keys.js';
import { jsonObjects } from '../../src/stores/etcd/gateway.js';
import { StoreEntries } from '../../src/stores/entries.js';
import { readFrontend, readRedisKey, watchedKeyOf } from '../../src/stores/redis/keys.js';
import { keyOfChannel, keyspacePatterns, withBerthFlags } from '../../src/stores/redis/notifications.js';

const endpoints = (reading: ReturnType<typeof readFrontend>) =>
  reading.specs.map((spec) => [spec.host, spec.path, spec.endpoint?.scheme, spec.endpoint?.address, spec.endpoint?.port, spec.endpoint?.ready, spec.endpoint?.notReadyReason]);

describe('a Hipache frontend list', () => {
  it('skips its first element, the identifier, and routes the host at / to every backend URL', () => {
    const reading = readFrontend('www.example.test', ['mysite', 'http://10.0.0.5:8080', 'https://10.0.0.6'], []);
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(endpoints(reading), [
      ['www.example.test', '/', 'http', '10.0.0.5', 8080, true, undefined],
      ['www.example.test', '/', 'https', '10.0.0.6', 443, true, undefined],
    ]);
    assert.equal(reading.specs[0]?.source, 'redis');
    assert.equal(reading.specs[0]?.endpoint?.origin, 'redis frontend:www.example.test[0]');
  });

  it('marks backends whose index is in the dead set as not ready, counting from the first backend', () => {
    const reading = readFrontend('www.example.test', ['mysite', 'http://10.0.0.5:80', 'http://10.0.0.6:80', 'http://10.0.0.7:80'], ['1']);
    assert.deepEqual(reading.specs.map((spec) => spec.endpoint?.ready), [true, false, true]);
    assert.equal(reading.specs[1]?.endpoint?.notReadyReason, 'marked dead in dead:www.example.test');
  });

  it('reads frontend:*.example.com as a wildcard host', () => {
    assert.equal(readFrontend('*.example.test', ['wild', 'http://10.0.0.5'], []).specs[0]?.host, '*.example.test');
  });

  it('yields no route for an identifier alone', () => {
    assert.deepEqual(readFrontend('www.example.test', ['lonely'], []), { specs: [], problems: [] });
  });

  it('reports a backend that is not a URL, and keeps the others', () => {
    const reading = readFrontend('www.example.test', ['mysite', 'not a url', 'ftp://10.0.0.9', 'http://10.0.0.5'], []);
    assert.deepEqual(reading.problems.map((problem) => problem.code), [Codes.storeBackend, Codes.storeBackend]);
    assert.deepEqual(reading.specs.map((spec) => spec.endpoint?.address), ['10.0.0.5']);
  });

  it('reports a key that names no host', () => {
    assert.deepEqual(readFrontend('not a host', ['x', 'http://10.0.0.5'], []).problems.map((problem) => problem.code), [Codes.storeKey]);
  });

  it('reports a frontend key of another type, and a berth entry that is not a string', () => {
    assert.deepEqual(readRedisKey('frontend:a.test', JSON.stringify({ type: 'hash' })).problems.map((problem) => problem.code), [Codes.storeType]);
    assert.deepEqual(readRedisKey('berth:route:a', JSON.stringify({ type: 'list' })).problems.map((problem) => problem.code), [Codes.storeType]);
  });

  it('reads berth:route:<name> as one routes-file entry named by its key', () => {
    const reading = readRedisKey('berth:route:shop', JSON.stringify({ text: 'host: shop.test\npath: /api\nto: http://10.0.0.5:9000\n' }));
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(reading.specs.map((spec) => [spec.source, spec.host, spec.path, spec.endpoint?.origin]), [['redis', 'shop.test', '/api', 'redis berth:route:shop']]);
  });
});

describe('which Redis key a change concerns', () => {
  it('reads a dead set with its frontend, and ignores keys outside berth\'s prefixes', () => {
    assert.equal(watchedKeyOf('dead:a.test'), 'frontend:a.test');
    assert.equal(watchedKeyOf('frontend:a.test'), 'frontend:a.test');
    assert.equal(watchedKeyOf('berth:route:x'), 'berth:route:x');
    assert.equal(watchedKeyOf('berth:route:'), null);
    assert.equal(watchedKeyOf('session:42'), null);
  });

  it('finds the key in a keyspace channel of its database only', () => {
    assert.equal(keyOfChannel(2, '__keyspace@2__:frontend:a.test'), 'frontend:a.test');
    assert.equal(keyOfChannel(0, '__keyspace@2__:frontend:a.test'), null);
    assert.deepEqual(keyspacePatterns(0, ['frontend:']), ['__keyspace@0__:frontend:*']);
  });
});

describe('keyspace notification flags', () => {
  it('adds what berth needs to what the server has, keeping the server\'s own', () => {
    assert.equal(withBerthFlags(''), 'Kg$lshzxe');
    assert.equal(withBerthFlags('Ex'), 'ExKg$lshze');
    assert.equal(withBerthFlags('KA'), 'KA');
    assert.equal(withBerthFlags('AKE'), 'AKE');
    assert.equal(withBerthFlags('Kg$lshzxe'), 'Kg$lshzxe');
  });
});

describe('an etcd /hosts/ key', () => {
  it('is one endpoint of its host at /, whatever the value', () => {
    const reading = readEtcdKey('/hosts/api.example.test/10.0.0.5:8080', 'anything');
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(reading.specs.map((spec) => [spec.source, spec.host, spec.path, spec.endpoint?.address, spec.endpoint?.port, spec.endpoint?.origin]), [
      ['etcd', 'api.example.test', '/', '10.0.0.5', 8080, 'etcd /hosts/api.example.test/10.0.0.5:8080'],
    ]);
  });

  it('reads a bracketed IPv6 address and a wildcard host', () => {
    const reading = readHostKey('/hosts/*.example.test/[fd00::5]:80');
    assert.equal(reading.specs[0]?.host, '*.example.test');
    assert.equal(reading.specs[0]?.endpoint?.address, 'fd00::5');
  });

  it('reports a key without an upstream, with a bad port, or naming no host', () => {
    for (const [key, code] of [
      ['/hosts/api.example.test', Codes.storeBackend],
      ['/hosts/api.example.test/10.0.0.5', Codes.storeBackend],
      ['/hosts/api.example.test/10.0.0.5:0', Codes.storeBackend],
      ['/hosts/bad host/10.0.0.5:80', Codes.storeKey],
    ] as const) {
      assert.deepEqual(readHostKey(key).problems.map((problem) => problem.code), [code], key);
    }
  });

  it('reads /berth/routes/<name> as one routes-file entry, with its codes', () => {
    assert.equal(readEtcdKey('/berth/routes/shop', '{"host": "shop.test", "to": "http://10.0.0.5"}').specs[0]?.endpoint?.origin, 'etcd /berth/routes/shop');
    assert.deepEqual(readEtcdKey('/berth/routes/bad', '{"host": "bad host", "to": "http://10.0.0.5"}').problems.map((problem) => problem.code), [Codes.routesHost]);
  });
});

describe('a store\'s entries', () => {
  it('parses a key again only when its raw value changed', () => {
    let parses = 0;
    const entries = new StoreEntries((key, raw) => {
      parses++;
      return readEtcdKey(key, raw);
    });
    entries.replace(new Map([['/hosts/a.test/10.0.0.1:80', ''], ['/hosts/b.test/10.0.0.2:80', '']]));
    assert.equal(parses, 2);
    assert.deepEqual(entries.replace(new Map([['/hosts/a.test/10.0.0.1:80', ''], ['/hosts/b.test/10.0.0.2:80', '']])), []);
    assert.equal(parses, 2);
    assert.equal(entries.put('/hosts/a.test/10.0.0.1:80', 'v2') !== null, true);
    assert.equal(parses, 3);
    assert.equal(entries.specs.length, 2);
  });

  it('names the key of each problem, and removes keys a full read no longer has', () => {
    const entries = new StoreEntries(readEtcdKey);
    entries.replace(new Map([['/hosts/bad host/10.0.0.1:80', ''], ['/hosts/b.test/10.0.0.2:80', '']]));
    assert.deepEqual(entries.problems.map((problem) => [problem.code, problem.item]), [[Codes.storeKey, '/hosts/bad host/10.0.0.1:80']]);
    assert.equal(entries.specs.length, 1);
    assert.deepEqual(entries.replace(new Map([['/hosts/b.test/10.0.0.2:80', '']])), ['/hosts/bad host/10.0.0.1:80']);
    assert.deepEqual(entries.problems, []);
  });

  it('counts a change of routes, not a change of problems or of a value that reads the same', () => {
    const entries = new StoreEntries(readRedisKey);
    const frontend = (list: string[]) => JSON.stringify({ list, dead: [] });
    entries.put('frontend:a.test', frontend(['site']));
    assert.equal(entries.routesVersion, 0, 'an identifier alone adds no route');
    entries.put('frontend:a.test', frontend(['site', 'not a url']));
    assert.equal(entries.routesVersion, 0, 'a problem alone changes no route');
    entries.put('frontend:a.test', frontend(['site', 'http://10.0.0.5']));
    assert.equal(entries.routesVersion, 1);
    entries.put('frontend:a.test', frontend(['renamed', 'http://10.0.0.5']));
    assert.equal(entries.routesVersion, 1, 'another identifier, the same route');
    entries.remove('frontend:a.test');
    assert.equal(entries.routesVersion, 2);
  });

  it('lists specs in key order, whatever order they were read in', () => {
    const a = new StoreEntries(readEtcdKey);
    const b = new StoreEntries(readEtcdKey);
    a.replace(new Map([['/hosts/a.test/10.0.0.1:80', ''], ['/hosts/b.test/10.0.0.2:80', '']]));
    b.replace(new Map([['/hosts/b.test/10.0.0.2:80', ''], ['/hosts/a.test/10.0.0.1:80', '']]));
    assert.deepEqual(a.specs, b.specs);
  });
});

describe('the etcd watch stream', () => {
  it('yields whole JSON objects however the text is cut', () => {
    const objects = jsonObjects();
    const text = '{"result":{"a":"}{\\"x"}}\n{"result":{"b":1}}{"error":{"message":"m"}}';
    const out = [];
    for (let i = 0; i < text.length; i += 3) out.push(...objects.push(text.slice(i, i + 3)));
    assert.deepEqual(out, [{ result: { a: '}{"x' } }, { result: { b: 1 } }, { error: { message: 'm' } }]);
  });
});
