// What replicas sharing ACME storage in Redis hold beside their own: the answers other replicas
// published, and how the storage is named and shown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChallengeRegistry } from '../../src/acme/challenges.js';
import { isRedisStorage, redactUrl } from '../../src/acme/redis-storage.js';

describe('challenge answers shared by replicas', () => {
  it('answers another replica\'s http-01 token and tls-alpn-01 certificate beside its own', () => {
    const registry = new ChallengeRegistry();
    registry.setHttp01('own-token', 'own.key-auth');
    registry.replaceShared({ 'their-token': 'their.key-auth' }, { 'Alpn.Berth.Test': { certPem: 'CERT', keyPem: 'KEY' } });
    assert.equal(registry.http01('own-token'), 'own.key-auth');
    assert.equal(registry.http01('their-token'), 'their.key-auth');
    assert.equal(registry.http01ForPath('/.well-known/acme-challenge/their-token'), 'their.key-auth');
    assert.deepEqual(registry.tlsAlpn01('alpn.berth.test.'), { certPem: 'CERT', keyPem: 'KEY' });
    // Workers answer both; the other replicas get only this one's own.
    assert.deepEqual(Object.keys(registry.snapshot().http01).sort(), ['own-token', 'their-token']);
    assert.deepEqual(registry.own(), { http01: { 'own-token': 'own.key-auth' }, tlsAlpn01: {} });
  });

  it('replaces the shared answers whole, and tells listeners only when they changed', () => {
    const registry = new ChallengeRegistry();
    let changes = 0;
    registry.onChange(() => changes++);
    registry.replaceShared({ a: '1' }, {});
    registry.replaceShared({ a: '1' }, {});
    assert.equal(changes, 1);
    registry.replaceShared({}, {});
    assert.equal(registry.http01('a'), undefined);
    assert.equal(changes, 2);
  });
});

describe('the Redis storage setting', () => {
  it('tells a Redis URL from a folder, and never logs its password', () => {
    assert.equal(isRedisStorage('redis://127.0.0.1:6379'), true);
    assert.equal(isRedisStorage('rediss://redis.internal'), true);
    assert.equal(isRedisStorage('/data/redis'), false);
    assert.equal(isRedisStorage('berth-data'), false);
    assert.equal(redactUrl('redis://berth:secret@redis.internal:6380/2'), 'redis://berth:***@redis.internal:6380/2');
    assert.equal(redactUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
  });
});
