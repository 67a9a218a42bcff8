// The routes file beside Docker: glue routes, hot reloads, broken files and atomic renames.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rename, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSyncedBerth, useBerth, type RunningBerth } from '../support/berth.js';
import { runHttpd, uniqueName, waitFor } from '../support/docker.js';
import { busyboxImage } from '../support/images.js';

/** An "outside" site on loopback that says which path and query it received. */
async function outsideSite(): Promise<{ port: number; close(): void }> {
  const server = http.createServer((req, res) => res.end(`outside ${req.url} host=${req.headers.host}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

interface Status {
  sources: { file: { state: string; routes: number; problems: Array<{ code: string; line: number }> }; docker?: unknown };
}

describe('the routes file beside Docker', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'berth-routes-'));
  const file = join(folder, 'routes.yml');
  const glue = `${uniqueName('glue')}.test`;
  const old = `${uniqueName('old')}.test`;
  let outside: Awaited<ReturnType<typeof outsideSite>>;

  before(async () => {
    outside = await outsideSite();
    await writeFile(file, `routes:\n  - host: ${glue}\n    path: /google\n    to: http://127.0.0.1:${outside.port}\n    strip-prefix: true\n  - host: ${old}\n    redirect: https://${glue}\n`);
  });
  const berth = useBerth(['--routes-file', file]);
  after(async () => {
    outside?.close();
    await rm(folder, { recursive: true, force: true });
  });

  const bodyOf = async (host: string, path: string) => {
    const response = await berth().request(host, path);
    return response.status === 200 && response.body;
  };

  it('serves the glue set-up: a default app, /node and /go containers, an outside site and a redirect', async () => {
    const image = await busyboxImage();
    await runHttpd({ image, body: 'default app', labels: { 'berth.host': glue, 'berth.port': '80' } });
    await runHttpd({ image, body: 'node app', labels: { 'berth.host': glue, 'berth.port': '80', 'berth.path': '/node', 'berth.strip-prefix': 'true' } });
    await runHttpd({ image, body: 'go app', files: { 'go/index.html': 'go app, unstripped' }, labels: { 'berth.host': glue, 'berth.port': '80', 'berth.path': '/go' } });
    assert.equal(await waitFor(() => bodyOf(glue, '/go/'), { what: 'the /go container' }), 'go app, unstripped');
    assert.equal(await waitFor(() => bodyOf(glue, '/node/'), { what: 'the /node container' }), 'node app');
    assert.equal(await bodyOf(glue, '/'), 'default app');
    assert.equal(await bodyOf(glue, '/google/search?q=berth&x=%2F'), `outside /search?q=berth&x=%2F host=${glue}`);
    const redirect = await berth().request(old, '/some/page?x=1');
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, `https://${glue}/some/page?x=1`);
  });

  it('shows each route\'s source: a container, or the file and line', async () => {
    const { routes } = await berth().admin<{ routes: Array<{ host: string; path: string; source: string; endpoints: Array<{ container: string | null; origin: string | null }> }> }>('/api/routes');
    const google = routes.find((r) => r.host === glue && r.path === '/google');
    assert.equal(google?.source, 'file');
    assert.equal(google?.endpoints[0]?.origin, 'routes.yml:2');
    const node = routes.find((r) => r.host === glue && r.path === '/node');
    assert.equal(node?.source, 'docker');
    assert.ok(node?.endpoints[0]?.container);
  });

  it('makes an appended route live without a restart', async () => {
    const added = `${uniqueName('added')}.test`;
    await appendFile(file, `  - host: ${added}\n    to: http://127.0.0.1:${outside.port}/base\n    host-header: upstream\n`);
    const body = await waitFor(() => bodyOf(added, '/page'), { what: 'the appended route', timeoutMs: 3000, intervalMs: 10 });
    assert.equal(body, `outside /base/page host=127.0.0.1:${outside.port}`);
  });

  it('keeps the previous routes when the file breaks, and reports the problem with its line', async () => {
    await appendFile(file, '  - host: Not A Host\n    to: http://127.0.0.1:1\n');
    const status = await waitFor(async () => {
      const current = await berth().admin<Status>('/api/status');
      return current.sources.file.state === 'invalid' && current;
    }, { what: 'the file reported invalid', timeoutMs: 3000, intervalMs: 10 });
    assert.deepEqual(status.sources.file.problems.map((p) => p.code), ['BERTH_E_ROUTES_HOST']);
    assert.ok(status.sources.file.problems[0]!.line > 1);
    assert.equal(await bodyOf(glue, '/google/x'), `outside /x host=${glue}`);
    assert.ok(berth().logs.some((line) => line['code'] === 'BERTH_E_ROUTES_HOST'));
  });

  it('picks up a file replaced by an atomic rename', async () => {
    const renamed = `${uniqueName('renamed')}.test`;
    const temporary = join(folder, '.routes.yml.tmp');
    await writeFile(temporary, `routes:\n  - host: ${renamed}\n    to: http://127.0.0.1:${outside.port}\n`);
    await rename(temporary, file);
    assert.equal(await waitFor(() => bodyOf(renamed, '/r'), { what: 'the renamed-in route', timeoutMs: 3000, intervalMs: 10 }), `outside /r host=${renamed}`);
    assert.equal((await berth().request(old, '/')).status, 404, 'routes gone from the file are gone');
    assert.equal((await berth().admin<Status>('/api/status')).sources.file.state, 'ok');
  });

  it('removes the file\'s routes when the file is deleted, and keeps Docker\'s', async () => {
    await rm(file);
    await waitFor(async () => (await berth().admin<Status>('/api/status')).sources.file.state === 'missing', { what: 'the file reported missing', timeoutMs: 3000, intervalMs: 10 });
    const { routes } = await berth().admin<{ routes: Array<{ source: string }> }>('/api/routes');
    assert.deepEqual([...new Set(routes.map((route) => route.source))], ['docker']);
    assert.equal(await bodyOf(glue, '/'), 'default app');
    assert.ok(berth().logs.some((line) => line['code'] === 'BERTH_W_ROUTES_FILE_MISSING'));
  });
});

describe('--no-docker', () => {
  let berth: RunningBerth | undefined;
  let folder: string;
  after(async () => {
    await berth?.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it('serves the routes file alone, with no Docker engine to talk to', async () => {
    const outside = await outsideSite();
    try {
      folder = await mkdtemp(join(tmpdir(), 'berth-routes-'));
      const file = join(folder, 'routes.json');
      await writeFile(file, JSON.stringify({ routes: [{ path: '/', to: `http://127.0.0.1:${outside.port}` }] }));
      berth = await startSyncedBerth(['--no-docker', '--routes-file', file, '--docker-host', 'unix:///nonexistent/docker.sock']);
      const response = await berth.request('whatever.test', '/hello');
      assert.equal(response.body, 'outside /hello host=whatever.test');
      const status = await berth.admin<Status>('/api/status');
      assert.equal(status.sources.docker, undefined, 'no Docker source is listed with --no-docker');
      assert.equal(status.sources.file.state, 'ok');
      assert.ok(!berth.logs.some((line) => String(line['code'] ?? '').startsWith('BERTH_E_DOCKER')));
    } finally {
      outside.close();
    }
  });
});
