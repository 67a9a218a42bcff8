// Labelled containers on a real Docker engine, reached through berth.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { useBerth } from '../support/berth.js';
import { runContainer, runHttpd, uniqueName, waitFor } from '../support/docker.js';
import { busyboxImage } from '../support/images.js';

interface ContainerView {
  name: string;
  routes: Array<{ host: string; path: string }>;
  problems: Array<{ code: string; label?: string }>;
}

// The test image exposes no port, as many images: the port label says where httpd listens.
const PORT_80 = { 'berth.port': '80' };

describe('routing labelled containers', () => {
  const berth = useBerth();
  let image: string;
  before(async () => (image = await busyboxImage()));

  /** Waits until the host answers 200 through berth and returns the body. */
  function reachable(host: string, path = '/'): Promise<string> {
    return waitFor(async () => {
      const response = await berth().request(host, path);
      return response.status === 200 && response.body;
    }, { what: `${host}${path} answering 200 through berth`, timeoutMs: 5000, intervalMs: 20 });
  }

  it('makes a labelled container reachable at its host', async () => {
    const host = `${uniqueName('app')}.test`;
    const app = await runHttpd({ image, labels: { ...PORT_80, 'berth.host': host } });
    assert.equal(await reachable(host), app.name);
  });

  it('shares requests evenly between two replicas on the same host', async () => {
    const host = `${uniqueName('pool')}.test`;
    const first = await runHttpd({ image, labels: { ...PORT_80, 'berth.host': host } });
    const second = await runHttpd({ image, labels: { ...PORT_80, 'berth.host': host } });
    await waitFor(async () => (await berth().endpointsOf(host)).length === 2, {
      what: 'both replicas in the pool',
    });
    const counts = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const { body } = await berth().request(host);
      counts.set(body, (counts.get(body) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(counts), { [first.name]: 10, [second.name]: 10 });
  });

  it('sends a path prefix to its own container and strips the prefix when asked', async () => {
    const host = `${uniqueName('paths')}.test`;
    await runHttpd({ image, body: 'root', labels: { ...PORT_80, 'berth.host': host } });
    await runHttpd({ image, body: 'api-root', files: { 'v1/index.html': 'api-v1' }, labels: { ...PORT_80, 'berth.host': host, 'berth.path': '/api', 'berth.strip-prefix': 'true' } });
    assert.equal(await reachable(host, '/api/v1/'), 'api-v1');
    assert.equal((await berth().request(host, '/api/')).body, 'api-root');
    assert.equal((await berth().request(host, '/apiary')).status, 404, 'the root container has no /apiary');
    assert.equal((await berth().request(host, '/')).body, 'root');
  });

  it('answers 404 naming the host when no route matches, and 400 for a Host that could carry markup', async () => {
    const response = await berth().request('nowhere.test');
    assert.equal(response.status, 404);
    assert.match(response.body, /nowhere\.test/);
    // A Host that could carry markup is no host berth routes: refused before any page names it.
    assert.equal((await berth().request('<script>nowhere.test')).status, 400);
  });

  it('reports a bad label with its code while the container\'s other routes and other containers keep working', async () => {
    const good = `${uniqueName('good')}.test`;
    const other = `${uniqueName('other')}.test`;
    const broken = await runHttpd({
      image,
      labels: { ...PORT_80, 'berth.host': good, 'berth.route.admin.host': `admin-${good}`, 'berth.route.admin.port': 'eighty' },
    });
    const neighbour = await runHttpd({ image, labels: { ...PORT_80, 'berth.host': other } });
    assert.equal(await reachable(good), broken.name);
    assert.equal(await reachable(other), neighbour.name);
    assert.equal((await berth().request(`admin-${good}`)).status, 404);
    const { containers } = await berth().admin<{ containers: ContainerView[] }>('/api/containers');
    const view = containers.find((c) => c.name === broken.name);
    assert.deepEqual(view?.problems.map((p) => [p.code, p.label]), [['BERTH_E_LABEL_PORT', 'berth.route.admin.port']]);
  });

  it('shows a container with several exposed ports and no port label as a problem instead of guessing', async () => {
    const host = `${uniqueName('ports')}.test`;
    const container = await runHttpd({ image, labels: { 'berth.host': host }, extraArgs: ['--expose', '80', '--expose', '8080'] });
    const view = await waitFor(async () => {
      const { containers } = await berth().admin<{ containers: ContainerView[] }>('/api/containers');
      return containers.find((c) => c.name === container.name);
    }, { what: 'the container in /api/containers' });
    assert.deepEqual(view.problems.map((p) => p.code), ['BERTH_E_PORT_AMBIGUOUS']);
    assert.equal((await berth().request(host)).status, 404);
  });

  it('routes a container whose only exposed port is not 80 without a port label', async () => {
    const host = `${uniqueName('exposed')}.test`;
    const app = await runHttpd({ image, port: 8080, labels: { 'berth.host': host }, extraArgs: ['--expose', '8080'] });
    assert.equal(await reachable(host), app.name);
  });

  it('leaves a container without labels alone when name routing is off', async () => {
    const plain = await runContainer({ image, cmd: ['sleep', '300'] });
    await waitFor(async () => {
      const { containers } = await berth().admin<{ containers: Array<ContainerView & { routed: boolean }> }>('/api/containers');
      const view = containers.find((c) => c.name === plain.name);
      return view !== undefined && view.routed === false && view.problems.length === 0;
    }, { what: 'the unlabelled container listed as not routed, without problems' });
  });
});

describe('name routing with --domain', () => {
  const domain = `${uniqueName('names')}.test`;
  const berth = useBerth(['--domain', domain]);
  let image: string;
  before(async () => (image = await busyboxImage()));

  it('reaches a container at <name>.<domain> without any label', async () => {
    const app = await runHttpd({ image, extraArgs: ['--expose', '80'] });
    const body = await waitFor(async () => {
      const response = await berth().request(`${app.name}.${domain}`);
      return response.status === 200 && response.body;
    }, { what: 'name route answering' });
    assert.equal(body, app.name);
  });

  it('gives compose replicas one name, <service>-<project>', async () => {
    const project = uniqueName('proj');
    const compose = { 'com.docker.compose.project': project, 'com.docker.compose.service': 'web' };
    const one = await runHttpd({ image, labels: compose, extraArgs: ['--expose', '80'] });
    const two = await runHttpd({ image, labels: compose, extraArgs: ['--expose', '80'] });
    const host = `web-${project}.${domain}`;
    const seen = new Set<string>();
    await waitFor(async () => {
      const response = await berth().request(host);
      if (response.status === 200) seen.add(response.body);
      return seen.size === 2;
    }, { what: 'both compose replicas answering', intervalMs: 10 });
    assert.deepEqual([...seen].sort(), [one.name, two.name].sort());
  });

  it('skips a container that opts out with berth.enable=false', async () => {
    const hidden = await runHttpd({ image, labels: { 'berth.enable': 'false' }, extraArgs: ['--expose', '80'] });
    const visible = await runHttpd({ image, extraArgs: ['--expose', '80'] });
    await waitFor(async () => (await berth().request(`${visible.name}.${domain}`)).status === 200, { what: 'the visible container routed' });
    assert.equal((await berth().request(`${hidden.name}.${domain}`)).status, 404);
  });
});
