// Active health checks on a routes-file route to two loopback origins: when one starts failing
// (answers 500, or closes its listener) all traffic goes to the other within about two intervals,
// /api/routes says why, and it comes back once its checks pass; the same with --workers, and for
// containers that ask for checks with labels.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startSyncedBerth, type RunningBerth } from '../support/berth.js';
import { cleanup, docker, runHttpd, uniqueName } from '../support/docker.js';
import { busyboxImage } from '../support/images.js';
import { berthWithRoutes, type RoutedBerth } from '../support/routed-berth.js';
import { waitFor } from '../support/wait.js';

const INTERVAL_MS = 300;
const HOST = 'health.example.test';

/** An origin that answers its name, and /healthz with 200 or, once told to fail, 500. */
async function origin(name: string, port = 0) {
  const state = { failing: false, checks: 0 };
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      state.checks++;
      res.writeHead(state.failing ? 500 : 200).end();
      return;
    }
    res.end(name);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    name,
    port: bound,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function servedBy(berth: RunningBerth, count: number, host = HOST): Promise<Set<string>> {
  const names = new Set<string>();
  for (let i = 0; i < count; i++) {
    const response = await berth.request(host, '/');
    assert.equal(response.status, 200, `request ${i}: ${response.status} ${response.body}`);
    names.add(response.body);
  }
  return names;
}

const reasonOf = async (berth: RunningBerth, port: number) => (await berth.endpointsOf(HOST)).find((endpoint) => endpoint.url.endsWith(`:${port}`))?.notReadyReason ?? null;

for (const workers of [null, 2]) {
  describe(`health checks on routes-file targets${workers ? ' with --workers' : ''}`, () => {
    let one: Awaited<ReturnType<typeof origin>>;
    let two: Awaited<ReturnType<typeof origin>>;
    let routed: RoutedBerth;
    const berth = () => routed.berth;

    before(async () => {
      one = await origin('one');
      two = await origin('two');
      const routes = `routes:
  - host: ${HOST}
    to: [http://127.0.0.1:${one.port}, http://127.0.0.1:${two.port}]
    health: { path: /healthz, interval: ${INTERVAL_MS}ms, timeout: 200ms }
`;
      routed = await berthWithRoutes(routes, workers ? ['--workers', String(workers)] : []);
      await waitFor(async () => one.state.checks > 0 && two.state.checks > 0, { what: 'both origins checked', timeoutMs: 3000, intervalMs: 20 });
    });
    after(async () => {
      await routed?.stop();
      await one?.close();
      await two?.close();
    });

    it('balances over both while they pass', async () => {
      assert.deepEqual([...(await servedBy(berth(), 6))].sort(), ['one', 'two']);
      assert.equal(await reasonOf(berth(), two.port), null);
    });

    it('sends everything to the other within about two intervals of a 500, and back after it recovers', async () => {
      two.state.failing = true;
      const started = Date.now();
      await waitFor(async () => (await reasonOf(berth(), two.port)) !== null, { what: 'two leaving its pool', timeoutMs: 5000, intervalMs: 20 });
      assert.ok(Date.now() - started <= 2 * INTERVAL_MS + 400, `left after ${Date.now() - started} ms`);
      assert.equal(await reasonOf(berth(), two.port), 'health check failing: status 500');
      // The workers get the table a moment after the primary builds it.
      await waitFor(async () => (await servedBy(berth(), 4)).size === 1, { what: 'traffic on one only', timeoutMs: 2000, intervalMs: 20 });
      assert.deepEqual([...(await servedBy(berth(), 10))], ['one']);

      two.state.failing = false;
      await waitFor(async () => (await reasonOf(berth(), two.port)) === null, { what: 'two back in its pool', timeoutMs: 5000, intervalMs: 20 });
      await waitFor(async () => (await servedBy(berth(), 6)).size === 2, { what: 'traffic on both again', timeoutMs: 2000, intervalMs: 20 });
    });

    it('takes out an origin that closes its listener, and takes it back when it listens again', async () => {
      const port = two.port;
      await two.close();
      await waitFor(async () => (await reasonOf(berth(), port)) === 'health check failing: connection refused', { what: 'two refused', timeoutMs: 5000, intervalMs: 20 });
      await waitFor(async () => (await servedBy(berth(), 4)).size === 1, { what: 'traffic on one only', timeoutMs: 2000, intervalMs: 20 });
      assert.deepEqual([...(await servedBy(berth(), 10))], ['one']);
      two = await origin('two', port);
      await waitFor(async () => (await reasonOf(berth(), port)) === null, { what: 'two back in its pool', timeoutMs: 5000, intervalMs: 20 });
      await waitFor(async () => (await servedBy(berth(), 6)).size === 2, { what: 'traffic on both again', timeoutMs: 2000, intervalMs: 20 });
    });
  });
}

describe('health checks from container labels', () => {
  let berth: RunningBerth;
  const host = `${uniqueName('health')}.test`;
  before(async () => {
    berth = await startSyncedBerth([]);
  });
  after(async () => {
    await berth?.stop();
    await cleanup();
  });

  it('drops the container whose health path answers 404 until it answers 200', async () => {
    const image = await busyboxImage();
    const labels = { 'berth.host': host, 'berth.port': '80', 'berth.health.path': '/healthz', 'berth.health.interval': `${INTERVAL_MS}ms` };
    const good = await runHttpd({ image, body: 'good', files: { healthz: 'ok' }, labels });
    const bad = await runHttpd({ image, body: 'bad', labels });
    const reason = async () => (await berth.endpointsOf(host)).find((endpoint) => endpoint.container === bad.name)?.notReadyReason ?? null;
    let seen: string | null = null;
    await waitFor(async () => (seen = await reason()) === 'health check failing: status 404', { what: () => `the container without /healthz leaving its pool (last reason: ${seen})`, timeoutMs: 10_000, intervalMs: 50 });
    assert.equal((await berth.endpointsOf(host)).find((endpoint) => endpoint.container === good.name)?.ready, true);
    assert.deepEqual([...(await servedBy(berth, 8, host))], ['good']);
    await docker('exec', bad.name, 'sh', '-c', 'printf ok > /www/healthz');
    await waitFor(async () => (await reason()) === null, { what: 'the container back in its pool', timeoutMs: 5000, intervalMs: 50 });
    await waitFor(async () => (await servedBy(berth, 6, host)).size === 2, { what: 'traffic on both', timeoutMs: 2000, intervalMs: 20 });
  });
});
