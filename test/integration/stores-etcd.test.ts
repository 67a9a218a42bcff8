// Routes kept in etcd, followed by watches through its JSON gateway: the /hosts/ layout and
// berth's own entries, against a real etcd on loopback, with real requests through berth.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Codes } from '../../src/errors.js';
import { startSyncedBerth, request, type RunningBerth } from '../support/berth.js';
import { uniqueName } from '../support/docker.js';
import { b64, EtcdServer } from '../support/etcd-server.js';
import { startHeldRelay, type HeldRelay } from '../support/held-relay.js';
import { startNamedOrigin, type NamedOrigin } from '../support/named-origin.js';
import { served, statusOf } from '../support/store-routes.js';
import { waitFor } from '../support/wait.js';

describe('routes from etcd', () => {
  let etcd: EtcdServer;
  let berth: RunningBerth;
  let one: NamedOrigin;
  let two: NamedOrigin;
  const address = (origin: NamedOrigin) => `127.0.0.1:${origin.port}`;

  before(async () => {
    [etcd, one, two] = await Promise.all([EtcdServer.start(), startNamedOrigin('one'), startNamedOrigin('two')]);
    berth = await startSyncedBerth(['--no-docker', '--etcd', etcd.url]);
  });
  after(async () => {
    await berth?.stop();
    await Promise.all([etcd?.stop(), one?.close(), two?.close()]);
  });

  it('makes a put of /hosts/<host>/<ip:port> a live route within a second, with no restart', async () => {
    const host = `${uniqueName('hosts')}.test`;
    const started = Date.now();
    await etcd.put(`/hosts/${host}/${address(one)}`, 'any value');
    assert.equal(await served(berth, host, '/hello'), 'one /hello');
    assert.ok(Date.now() - started < 1000);
  });

  it('balances round robin over a host\'s keys, and drops a deleted one', async () => {
    const host = `${uniqueName('pool')}.test`;
    await etcd.put(`/hosts/${host}/${address(one)}`, '');
    await etcd.put(`/hosts/${host}/${address(two)}`, '');
    await waitFor(async () => (await berth.endpointsOf(host)).length === 2, { what: 'two endpoints', timeoutMs: 1000, intervalMs: 10 });
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push((await berth.request(host)).body);
    assert.deepEqual(bodies.sort(), ['one /', 'one /', 'two /', 'two /']);
    await etcd.delete(`/hosts/${host}/${address(one)}`);
    await waitFor(async () => (await berth.endpointsOf(host)).length === 1, { what: 'one endpoint left', timeoutMs: 1000, intervalMs: 10 });
    for (let i = 0; i < 3; i++) assert.equal((await berth.request(host)).body, 'two /');
  });

  it('reads /berth/routes/<name> as a routes-file entry', async () => {
    const host = `${uniqueName('entry')}.test`;
    await etcd.put(`/berth/routes/${host}`, `host: ${host}\npath: /api\nstrip-prefix: true\nto: ${one.url}/v1\n`);
    assert.equal(await served(berth, host, '/api/items'), 'one /v1/items');
  });

  it('reports a bad key with its code and key, and keeps every other route', async () => {
    const good = `${uniqueName('good')}.test`;
    await etcd.put(`/hosts/${good}/${address(two)}`, '');
    await etcd.put('/hosts/bad.test/no-port', '');
    await etcd.put('/berth/routes/broken', '{"host": "a.test", "to": "ftp://10.0.0.1"}');
    const problems = await waitFor(async () => {
      const { etcd: status } = await statusOf(berth);
      return status!.problems.length >= 2 && status!.problems;
    }, { what: 'the problems in /api/status', timeoutMs: 1000, intervalMs: 20 });
    assert.deepEqual(problems.map((problem) => [problem.code, problem.item]).sort(), [
      [Codes.routesUrl, '/berth/routes/broken'],
      [Codes.storeBackend, '/hosts/bad.test/no-port'],
    ]);
    assert.equal(await served(berth, good), 'two /');
    await etcd.delete('/hosts/bad.test/no-port');
    await etcd.delete('/berth/routes/broken');
  });

  it('keeps its routes while etcd is down, and reads it again when it is back with its data', async () => {
    const kept = `${uniqueName('kept')}.test`;
    await etcd.put(`/hosts/${kept}/${address(one)}`, '');
    await served(berth, kept);
    await etcd.kill();
    await waitFor(async () => (await statusOf(berth)).etcd?.state === 'down', { what: 'etcd down in /api/status', timeoutMs: 5000, intervalMs: 50 });
    assert.equal((await berth.request(kept)).body, 'one /');
    assert.ok(berth.logs.some((line) => line['code'] === Codes.etcdUnreachable));
    await etcd.restart();
    await waitFor(async () => (await statusOf(berth)).etcd?.state === 'ok', { what: 'etcd ok again', timeoutMs: 10_000, intervalMs: 50 });
    assert.equal((await berth.request(kept)).body, 'one /');
    const added = `${uniqueName('added')}.test`;
    await etcd.put(`/hosts/${added}/${address(two)}`, '');
    assert.equal(await served(berth, added), 'two /');
  });

  it('keeps its routes while etcd is paused, and follows it again once resumed', async () => {
    etcd.pause();
    try {
      await waitFor(async () => (await statusOf(berth)).etcd?.state === 'down', { what: 'etcd down while paused', timeoutMs: 5000, intervalMs: 50 });
    } finally {
      etcd.resume();
    }
    await waitFor(async () => (await statusOf(berth)).etcd?.state === 'ok', { what: 'etcd ok again', timeoutMs: 10_000, intervalMs: 50 });
    const host = `${uniqueName('resumed')}.test`;
    await etcd.put(`/hosts/${host}/${address(one)}`, '');
    assert.equal(await served(berth, host), 'one /');
  });

  it('shows the store in /api/status and the metrics', async () => {
    const { etcd: status } = await statusOf(berth);
    assert.equal(status?.state, 'ok');
    assert.ok((status?.revision ?? 0) > 1);
    const metrics = await request({ port: berth.adminPort, path: '/metrics', method: 'GET', headers: {}, timeoutMs: 5000 });
    assert.match(metrics.body, /^berth_etcd_connected 1$/m);
    assert.match(metrics.body, /^berth_etcd_reconnects_total [1-9]/m);
  });
});

describe('an etcd watch broken by compaction', () => {
  let etcd: EtcdServer;
  let relay: HeldRelay;
  let berth: RunningBerth;
  let origin: NamedOrigin;

  before(async () => {
    [etcd, origin] = await Promise.all([EtcdServer.start(), startNamedOrigin('compacted')]);
    relay = await startHeldRelay(etcd.url, '/v3/watch');
  });
  after(async () => {
    await berth?.stop();
    await relay?.close();
    await Promise.all([etcd?.stop(), origin?.close()]);
  });

  it('is followed by a full read, so a change made before the compaction is not lost', async () => {
    relay.hold();
    berth = await startSyncedBerth(['--no-docker', '--etcd', relay.url]);
    await waitFor(async () => relay.waiting === 2, { what: 'both watches held', timeoutMs: 5000, intervalMs: 10 });
    const host = `${uniqueName('compacted')}.test`;
    // The watches will ask for history from before this put, which the compaction then removes.
    await etcd.put(`/hosts/${host}/127.0.0.1:${origin.port}`, '');
    await etcd.put('/elsewhere', 'a revision past it');
    await etcd.compact();
    relay.release();
    assert.equal(await served(berth, host, '/', 3000), 'compacted /');
    assert.ok(berth.logs.some((line) => line['code'] === Codes.etcdCompacted));
    const later = `${uniqueName('later')}.test`;
    await etcd.put(`/hosts/${later}/127.0.0.1:${origin.port}`, '');
    assert.equal(await served(berth, later), 'compacted /');
  });
});

describe('etcd with authentication on', () => {
  let etcd: EtcdServer;
  let origin: NamedOrigin;
  const berths: RunningBerth[] = [];

  before(async () => {
    [etcd, origin] = await Promise.all([EtcdServer.start(), startNamedOrigin('authed')]);
    await etcd.put(`/hosts/before.auth.test/127.0.0.1:${origin.port}`, '');
    await etcd.call('/v3/auth/role/add', { name: 'root' });
    await etcd.call('/v3/auth/user/add', { name: 'root', password: 'open sesame' });
    await etcd.call('/v3/auth/user/grant', { user: 'root', role: 'root' });
    await etcd.call('/v3/auth/enable', {});
  });
  after(async () => {
    await Promise.all(berths.map((berth) => berth.stop()));
    await Promise.all([etcd?.stop(), origin?.close()]);
  });

  /** A put with a token of its own: with authentication on, the test's plain calls are refused. */
  async function authedPut(key: string): Promise<void> {
    const token = (await etcd.call('/v3/auth/authenticate', { name: 'root', password: 'open sesame' }))['token'] as string;
    const response = await fetch(`${etcd.url}/v3/kv/put`, { method: 'POST', headers: { authorization: token }, body: JSON.stringify({ key: b64(key), value: b64('') }), signal: AbortSignal.timeout(5000) });
    assert.equal(response.status, 200);
  }

  it('reads and watches with the token of --etcd-user and --etcd-password', async () => {
    const berth = await startSyncedBerth(['--no-docker', '--etcd', etcd.url, '--etcd-user', 'root'], { BERTH_ETCD_PASSWORD: 'open sesame' });
    berths.push(berth);
    assert.equal(await served(berth, 'before.auth.test'), 'authed /');
    const host = `${uniqueName('authed')}.test`;
    await authedPut(`/hosts/${host}/127.0.0.1:${origin.port}`);
    assert.equal(await served(berth, host), 'authed /');
  });

  it('says so when etcd refuses the password, and routes nothing from it', async () => {
    const berth = await startSyncedBerth(['--no-docker', '--etcd', etcd.url, '--etcd-user', 'root'], { BERTH_ETCD_PASSWORD: 'wrong' });
    berths.push(berth);
    await waitFor(async () => berth.logs.some((line) => line['code'] === Codes.etcdAuth), { what: 'the refusal logged', timeoutMs: 3000, intervalMs: 20 });
    assert.equal((await statusOf(berth)).etcd?.state, 'down');
    assert.equal((await berth.request('before.auth.test')).status, 404);
    assert.ok(!JSON.stringify(berth.logs).includes('wrong'), 'the password is not logged');
  });
});
