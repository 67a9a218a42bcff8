// --workers: cluster workers serve traffic with the primary's table; a dead worker is replaced.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { request, useBerth } from '../support/berth.js';
import { runHttpd, uniqueName, waitFor } from '../support/docker.js';
import { busyboxImage } from '../support/images.js';

interface Status {
  ready: boolean;
  workers: { wanted: number; listening: number; restarts: number };
}

/** Worker pids: the children of berth's primary. */
function workerPids(primaryPid: number): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(primaryPid)], { encoding: 'utf8' });
  return out.split('\n').map((line) => Number(line.trim())).filter((pid) => pid > 0);
}

describe('--workers 2', () => {
  const berth = useBerth(['--workers', '2']);
  const host = `${uniqueName('workers')}.test`;

  before(async () => {
    const image = await busyboxImage();
    await runHttpd({ image, body: 'served', labels: { 'berth.host': host, 'berth.port': '80' } });
  });

  it('serves a container routed after start from every worker, and adds up their metrics', async () => {
    await waitFor(async () => (await berth().request(host)).status === 200, { what: 'the route in the workers' });
    for (let i = 0; i < 20; i++) assert.equal((await berth().request(host)).body, 'served');
    const status = await berth().admin<Status>('/api/status');
    assert.deepEqual(status.workers, { wanted: 2, listening: 2, restarts: 0 });
    const metrics = await request({ port: berth().adminPort, path: '/metrics', method: 'GET', headers: {}, timeoutMs: 5000 });
    const served = new RegExp(`^berth_requests_total\\{host="${host.replace(/\./g, '\\.')}",status_class="2xx"\\} (\\d+)`, 'm').exec(metrics.body);
    assert.ok(served && Number(served[1]) >= 21, `aggregated count: ${served?.[1]}`);
  });

  it('replaces a worker that dies, serving from the other one meanwhile', async () => {
    const [victim] = workerPids(berth().pid);
    assert.ok(victim, 'a worker process exists');
    process.kill(victim, 'SIGKILL');
    // Once the primary has seen the death, the survivor takes every connection.
    await waitFor(async () => (await berth().admin<Status>('/api/status')).workers.restarts === 1, { what: 'the death noticed', intervalMs: 5 });
    for (let i = 0; i < 20; i++) assert.equal((await berth().request(host)).status, 200);
    const status = await waitFor(async () => {
      const current = await berth().admin<Status>('/api/status');
      return current.workers.restarts === 1 && current.workers.listening === 2 && current;
    }, { what: 'a replacement worker listening' });
    assert.equal(status.ready, true);
    assert.ok(!workerPids(berth().pid).includes(victim));
  });
});
