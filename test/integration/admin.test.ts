// The admin listener: JSON views, Prometheus metrics, tokens, and the access log.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request, startSyncedBerth, useBerth, type RunningBerth } from '../support/berth.js';
import { cleanup, runHttpd, uniqueName, waitFor } from '../support/docker.js';
import { busyboxImage } from '../support/images.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

describe('admin API and metrics', () => {
  const berth = useBerth();
  const host = `${uniqueName('admin')}.test`;
  let app: string;

  before(async () => {
    const image = await busyboxImage();
    app = (await runHttpd({ image, labels: { 'berth.host': host, 'berth.port': '80' } })).name;
    await waitFor(async () => (await berth().request(host)).status === 200, { what: 'the container routed' });
  });

  it('lists routes with their endpoints, containers with their routes, and the Docker status', async () => {
    const { routes, version } = await berth().admin<{ version: number; routes: Array<{ host: string; path: string; source: string; endpoints: Array<{ container: string; url: string; ready: boolean }> }> }>('/api/routes');
    assert.ok(version >= 1);
    const route = routes.find((r) => r.host === host);
    assert.equal(route?.path, '/');
    assert.equal(route?.source, 'docker');
    assert.equal(route?.endpoints[0]?.container, app);
    assert.match(route?.endpoints[0]?.url ?? '', /^http:\/\/172\.\d+\.\d+\.\d+:80$/);

    const { containers } = await berth().admin<{ containers: Array<{ name: string; routed: boolean; ready: boolean; routes: Array<{ host: string }> }> }>('/api/containers');
    const view = containers.find((c) => c.name === app);
    assert.deepEqual([view?.routed, view?.ready, view?.routes.map((r) => r.host)], [true, true, [host]]);

    const status = await berth().admin<{ ready: boolean; sources: { docker: { state: string; connected: boolean; synced: boolean; apiVersion: string; eventsSeen: number } } }>('/api/status');
    const docker = status.sources.docker;
    assert.equal(status.ready, true);
    assert.equal(docker.state, 'ok');
    assert.equal(docker.connected, true);
    assert.match(docker.apiVersion, /^1\.\d+$/);
    assert.ok(docker.eventsSeen > 0);

    const { changes } = await berth().admin<{ changes: Array<{ version: number; added: string[] }> }>('/api/changes');
    assert.ok(changes.some((change) => change.added.includes(`${host} /`)));
  });

  it('exposes Prometheus metrics for traffic, the table and Docker', async () => {
    await berth().request(host);
    await berth().request(`${uniqueName('nowhere')}.test`);
    const response = await request({ port: berth().adminPort, path: '/metrics', method: 'GET', headers: {}, timeoutMs: 5000 });
    assert.match(String(response.headers['content-type']), /^text\/plain/);
    const text = response.body;
    assert.match(text, new RegExp(`^berth_requests_total\\{host="${host.replace(/\./g, '\\.')}",status_class="2xx"\\} [1-9]`, 'm'));
    assert.match(text, /^berth_requests_total\{host="none",status_class="4xx"\} [1-9]/m);
    assert.match(text, new RegExp(`^berth_request_duration_seconds_bucket\\{le="\\+Inf",host="${host.replace(/\./g, '\\.')}"\\} [1-9]`, 'm'));
    for (const name of ['berth_upstream_errors_total', 'berth_retries_total', 'berth_active_connections', 'berth_active_websockets', 'berth_table_changes_total', 'berth_routes', 'berth_endpoints', 'berth_docker_events_total', 'berth_docker_resyncs_total', 'berth_docker_reconnects_total', 'berth_source_up', 'berth_source_problems', 'berth_process_cpu_seconds_total', 'berth_nodejs_heap_size_used_bytes']) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    assert.match(text, /^berth_endpoints\{ready="true"\} [1-9]/m);
  });

  it('writes one access log line per request with the fields operators need', async () => {
    const marker = `/access-${uniqueName('log')}`;
    await berth().request(host, marker);
    const line = await waitFor(async () => berth().logs.find((l) => l.msg === 'request' && l['path'] === marker), { what: 'the access log line' });
    assert.equal(line['host'], host);
    assert.equal(line['method'], 'GET');
    assert.equal(line['status'], 404);
    assert.equal(line['container'], app);
    assert.match(String(line['upstream']), /^172\.\d+\.\d+\.\d+:80$/);
    assert.match(String(line['requestId']), /^[0-9a-f-]{36}$/);
    assert.equal(typeof line['durationMs'], 'number');
    assert.ok(Number(line['bytes']) > 0);
  });

  it('never proxies through the admin listener, whatever the Host header', async () => {
    const response = await request({ port: berth().adminPort, path: '/', method: 'GET', headers: { host }, timeoutMs: 5000 });
    assert.equal(response.status, 200);
    assert.equal(JSON.parse(response.body).name, 'berth admin');
    const other = await request({ port: berth().adminPort, path: '/index.html', method: 'GET', headers: { host }, timeoutMs: 5000 });
    assert.equal(other.status, 404);
  });
});

describe('admin tokens', () => {
  let berth: RunningBerth;
  const token = 'correct horse battery staple';
  before(async () => {
    berth = await startSyncedBerth(['--access-log=false'], { BERTH_ADMIN_TOKEN: token });
  });
  after(async () => {
    await berth?.stop();
    await cleanup();
  });

  const get = (path: string, authorization?: string) =>
    request({ port: berth.adminPort, path, method: 'GET', headers: authorization ? { authorization } : {}, timeoutMs: 5000 });

  it('answers 401 without a token or with a wrong one, and 200 with the right one', async () => {
    for (const path of ['/api/routes', '/api/containers', '/api/status', '/metrics', '/api/stream']) {
      assert.equal((await get(path)).status, 401, `${path} without a token`);
      assert.equal((await get(path, 'Bearer wrong')).status, 401, `${path} with a wrong token`);
      assert.equal((await get(path, `Basic ${token}`)).status, 401, `${path} with another scheme`);
    }
    assert.equal((await get('/api/routes', `Bearer ${token}`)).status, 200);
    assert.equal((await get('/metrics', `bearer ${token}`)).status, 200);
  });

  it('leaves the probes open', async () => {
    assert.equal((await get('/healthz')).status, 200);
    assert.equal((await get('/readyz')).status, 200);
  });

  it('writes no access log when it is turned off', async () => {
    await berth.request('anything.test');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(berth.logs.filter((l) => l.msg === 'request').length, 0);
  });
});

describe('starting with an exposed admin listener', () => {
  it('refuses to start without a token and says why', () => {
    const result = spawnSync(process.execPath, [CLI, '--admin-addr', '0.0.0.0:0', '--http-port', '0'], { encoding: 'utf8', env: { ...process.env, BERTH_ADMIN_TOKEN: '' }, timeout: 10_000 });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /BERTH_E_CONFIG/);
    assert.match(result.stderr, /BERTH_ADMIN_TOKEN/);
  });
});
