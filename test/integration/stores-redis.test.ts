// Routes kept in Redis, followed live: Hipache's frontend lists and berth's own entries, against
// a real redis-server on loopback, with real requests through berth to loopback origins.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { Codes } from '../../src/errors.js';
import type { StoreSink } from '../../src/stores/provider.js';
import { RedisConnector } from '../../src/stores/redis/session.js';
import { startSyncedBerth, request, type RunningBerth } from '../support/berth.js';
import { uniqueName } from '../support/docker.js';
import { startNamedOrigin, type NamedOrigin } from '../support/named-origin.js';
import { RedisServer } from '../support/redis-server.js';
import { gone, served, statusOf } from '../support/store-routes.js';
import { waitFor } from '../support/wait.js';

describe('routes from Redis', async () => {
  let redis: RedisServer;
  let berth: RunningBerth;
  let one: NamedOrigin;
  let two: NamedOrigin;
  const folder = await mkdtemp(join(tmpdir(), 'berth-redis-'));
  const fileHost = `${uniqueName('file')}.test`;

  before(async () => {
    [redis, one, two] = await Promise.all([RedisServer.start(), startNamedOrigin('one'), startNamedOrigin('two')]);
    await writeFile(join(folder, 'routes.yml'), `routes:\n  - host: ${fileHost}\n    to: ${one.url}\n`);
    berth = await startSyncedBerth(['--no-docker', '--redis', redis.url, '--routes-file', join(folder, 'routes.yml')]);
  });
  after(async () => {
    await berth?.stop();
    await Promise.all([redis?.stop(), one?.close(), two?.close(), rm(folder, { recursive: true, force: true })]);
  });

  it('makes an RPUSH of frontend:<host> a live route within a second, with no restart', async () => {
    const host = `${uniqueName('hipache')}.test`;
    const started = Date.now();
    await redis.command('RPUSH', `frontend:${host}`, 'mysite', one.url);
    assert.equal(await served(berth, host, '/hello'), 'one /hello');
    assert.ok(Date.now() - started < 1000);
    assert.match(JSON.stringify(berth.logs.find((line) => /keyspace notifications are on/.test(line.msg))), /__keyspace@0__:frontend:\*/);
  });

  it('balances over a list\'s backends and leaves out the ones in dead:<host>', async () => {
    const host = `${uniqueName('dead')}.test`;
    await redis.command('RPUSH', `frontend:${host}`, 'mysite', one.url, two.url);
    await served(berth, host);
    const bodies = new Set<string>();
    for (let i = 0; i < 6; i++) bodies.add((await berth.request(host)).body);
    assert.deepEqual([...bodies].sort(), ['one /', 'two /']);
    await redis.command('SADD', `dead:${host}`, '0');
    await waitFor(async () => (await berth.endpointsOf(host)).some((endpoint) => !endpoint.ready), { what: 'backend 0 not ready', timeoutMs: 1000, intervalMs: 10 });
    for (let i = 0; i < 6; i++) assert.equal((await berth.request(host)).body, 'two /');
    await redis.command('SREM', `dead:${host}`, '0');
    await waitFor(async () => (await berth.endpointsOf(host)).every((endpoint) => endpoint.ready), { what: 'backend 0 ready again', timeoutMs: 1000, intervalMs: 10 });
  });

  it('routes every name under a frontend:*.<domain> wildcard', async () => {
    const domain = `${uniqueName('wild')}.test`;
    await redis.command('RPUSH', `frontend:*.${domain}`, 'wild', two.url);
    assert.equal(await served(berth, `a.${domain}`, '/x'), 'two /x');
    assert.equal((await berth.request(`b.${domain}`, '/y')).body, 'two /y');
  });

  it('reads berth:route:<name> entries in JSON and in YAML, with the routes file\'s keys', async () => {
    const json = `${uniqueName('json')}.test`;
    const yaml = `${uniqueName('yaml')}.test`;
    await redis.command('SET', `berth:route:${json}`, JSON.stringify({ host: json, path: '/api', 'strip-prefix': true, to: `${one.url}/base` }));
    await redis.command('SET', `berth:route:${yaml}`, `host: ${yaml}\nredirect: https://elsewhere.test\nredirect-code: 302\n`);
    assert.equal(await served(berth, json, '/api/items'), 'one /base/items');
    const redirect = await waitFor(async () => {
      const response = await berth.request(yaml, '/page');
      return response.status === 302 && response;
    }, { what: 'the YAML redirect', timeoutMs: 1000, intervalMs: 10 });
    assert.equal(redirect.headers.location, 'https://elsewhere.test/page');
  });

  it('removes a deleted key\'s route within a second', async () => {
    const host = `${uniqueName('deleted')}.test`;
    await redis.command('RPUSH', `frontend:${host}`, 'mysite', one.url);
    await served(berth, host);
    await redis.command('DEL', `frontend:${host}`);
    await gone(berth, host);
  });

  it('reports a bad entry with its code and key, and keeps every other route', async () => {
    const good = `${uniqueName('good')}.test`;
    await redis.command('RPUSH', `frontend:${good}`, 'mysite', one.url);
    await redis.command('SET', 'berth:route:broken', '{"host": "not a host", "to": "http://127.0.0.1:1"}');
    await redis.command('HSET', 'frontend:hash.test', 'a', 'b');
    const problems = await waitFor(async () => {
      const { redis: status } = await statusOf(berth);
      return status!.problems.length >= 2 && status!.problems;
    }, { what: 'the problems in /api/status', timeoutMs: 1000, intervalMs: 20 });
    assert.deepEqual(problems.map((problem) => [problem.code, problem.item]).sort(), [
      [Codes.routesHost, 'berth:route:broken'],
      [Codes.storeType, 'frontend:hash.test'],
    ]);
    assert.equal(await served(berth, good), 'one /');
    assert.ok(berth.logs.some((line) => line['code'] === Codes.routesHost && line['key'] === 'berth:route:broken'));
    await redis.command('DEL', 'berth:route:broken', 'frontend:hash.test');
    await waitFor(async () => (await statusOf(berth)).redis!.problems.length === 0, { what: 'the problems cleared', timeoutMs: 1000, intervalMs: 20 });
  });

  it('lets the routes file win over Redis on the same host and path, and logs the conflict', async () => {
    await redis.command('RPUSH', `frontend:${fileHost}`, 'shadowed', two.url);
    await waitFor(async () => berth.logs.some((line) => line['code'] === Codes.routeConflict), { what: 'the conflict logged', timeoutMs: 1000, intervalMs: 20 });
    assert.equal((await berth.request(fileHost)).body, 'one /');
  });

  it('shows the store in /api/status and the metrics', async () => {
    const { redis: status } = await statusOf(berth);
    assert.equal(status?.state, 'ok');
    assert.equal(status?.follows, 'keyspace notifications');
    const metrics = await request({ port: berth.adminPort, path: '/metrics', method: 'GET', headers: {}, timeoutMs: 5000 });
    assert.match(metrics.body, /^berth_redis_connected 1$/m);
    assert.match(metrics.body, /^berth_redis_reloads_total [1-9]/m);
  });

  it('keeps its routes while Redis is paused, says it is down, and follows it again once resumed', async () => {
    const kept = `${uniqueName('kept')}.test`;
    await redis.command('RPUSH', `frontend:${kept}`, 'mysite', one.url);
    await served(berth, kept);
    redis.pause();
    try {
      await waitFor(async () => (await statusOf(berth)).redis?.state === 'down', { what: 'redis down in /api/status', timeoutMs: 5000, intervalMs: 50 });
      assert.equal((await berth.request(kept)).body, 'one /');
      assert.ok(berth.logs.some((line) => line['code'] === Codes.redisUnreachable));
    } finally {
      redis.resume();
    }
    await waitFor(async () => (await statusOf(berth)).redis?.state === 'ok', { what: 'redis ok again', timeoutMs: 5000, intervalMs: 50 });
    const after = `${uniqueName('after')}.test`;
    await redis.command('RPUSH', `frontend:${after}`, 'mysite', two.url);
    assert.equal(await served(berth, after), 'two /');
  });
});

describe('Redis that allows no keyspace notifications', () => {
  let redis: RedisServer;
  let berth: RunningBerth;
  let origin: NamedOrigin;

  before(async () => {
    [redis, origin] = await Promise.all([RedisServer.start(['--rename-command', 'CONFIG', '']), startNamedOrigin('scanned')]);
    berth = await startSyncedBerth(['--no-docker', '--redis', redis.url]);
  });
  after(async () => {
    await berth?.stop();
    await Promise.all([redis?.stop(), origin?.close()]);
  });

  it('is scanned every second instead, and says so', async () => {
    const host = `${uniqueName('scan')}.test`;
    await redis.command('RPUSH', `frontend:${host}`, 'mysite', origin.url);
    assert.equal(await served(berth, host, '/', 1500), 'scanned /');
    assert.ok(berth.logs.some((line) => line['code'] === Codes.redisNotifications));
    assert.equal((await statusOf(berth)).redis?.follows, 'a scan every second');
    await redis.command('DEL', `frontend:${host}`);
    await gone(berth, host, 1500);
  });
});

describe('Redis that is not there when berth starts', () => {
  it('leaves berth ready with the store down, and routes from it once it comes', async () => {
    const redis = await RedisServer.start();
    const origin = await startNamedOrigin('late');
    await redis.kill();
    const berth = await startSyncedBerth(['--no-docker', '--redis', redis.url]);
    try {
      assert.equal((await statusOf(berth)).redis?.state, 'down');
      await redis.restart();
      await redis.command('RPUSH', 'frontend:late.test', 'late', origin.url);
      assert.equal(await served(berth, 'late.test', '/', 5000), 'late /');
      assert.equal((await statusOf(berth)).redis?.state, 'ok');
    } finally {
      await berth.stop();
      await Promise.all([redis.stop(), origin.close()]);
    }
  });
});

describe('PUBLISH berth:changed', () => {
  it('makes berth read everything at once, before the next scan', async () => {
    const redis = await RedisServer.start(['--rename-command', 'CONFIG', '']);
    const reads: Array<ReadonlyMap<string, string>> = [];
    const sink: StoreSink = { replaceAll: (all) => reads.push(all), put: () => undefined, fact: () => undefined };
    const connector = new RedisConnector({ url: redis.url, logger: pino({ level: 'silent' }), scanMs: 60_000, resyncMs: 60_000 });
    const session = await connector.open(sink);
    try {
      assert.equal(reads.length, 1);
      await redis.command('SET', 'berth:route:published', '{"host": "published.test", "to": "http://127.0.0.1:1"}');
      await redis.command('PUBLISH', 'berth:changed', 'now');
      const read = await waitFor(async () => reads[1], { what: 'a second full read', timeoutMs: 1000, intervalMs: 10 });
      assert.ok(read.has('berth:route:published'));
    } finally {
      session.close();
      await redis.stop();
    }
  });
});
