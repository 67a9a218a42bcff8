// --workers with a worker that stops answering: the primary stays up and says why /metrics failed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request, startSyncedBerth, type RunningBerth } from '../support/berth.js';

function workerPids(primaryPid: number): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(primaryPid)], { encoding: 'utf8' });
  return out.split('\n').map((line) => Number(line.trim())).filter((pid) => pid > 0);
}

const scrape = (berth: RunningBerth) => request({ port: berth.adminPort, path: '/metrics', method: 'GET', headers: {}, timeoutMs: 15_000 });

describe('--workers 2 with a stalled worker', () => {
  let folder = '';
  let berth: RunningBerth;
  let stalled: number | undefined;

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'berth-stalled-'));
    const file = join(folder, 'routes.yml');
    await writeFile(file, 'routes:\n  - host: a.test\n    redirect: https://b.test\n');
    berth = await startSyncedBerth(['--workers', '2', '--no-docker', '--routes-file', file]);
  });
  after(async () => {
    if (stalled) process.kill(stalled, 'SIGCONT');
    await berth?.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it('answers /metrics with 503 and a code while a worker is stopped, stays up, and recovers once it runs again', async () => {
    assert.equal((await scrape(berth)).status, 200);
    [stalled] = workerPids(berth.pid);
    assert.ok(stalled, 'a worker process exists');
    process.kill(stalled, 'SIGSTOP');

    const started = Date.now();
    const refused = await scrape(berth);
    assert.equal(refused.status, 503, refused.body);
    assert.equal((JSON.parse(refused.body) as { code: string }).code, 'BERTH_E_METRICS');
    assert.ok(Date.now() - started >= 4_000, 'prom-client waits its 5 s before giving up');
    // Past the aggregation timeout: the primary must still be alive and answering.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await berth.adminStatus('/healthz')), 200);
    assert.ok(berth.logs.some((line) => line['code'] === 'BERTH_E_METRICS'), 'the failure is logged with its code');

    process.kill(stalled, 'SIGCONT');
    stalled = undefined;
    const recovered = await scrape(berth);
    assert.equal(recovered.status, 200);
    assert.match(recovered.body, /^berth_routes 1$/m);
    assert.equal(berth.logs.filter((line) => line.level >= 50).length, 0, 'nothing logged at error or above');
  });
});
