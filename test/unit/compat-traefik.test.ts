// Golden cases for reading Traefik's labels: one YAML file per case under
// test/fixtures/compat/traefik, holding a container's labels in and the route intents and
// problems berth reads from them under --compat traefik. A case may also give the berth labels
// that say the same thing: they must read to the very same routes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { readContainerLabels } from '../../src/docker/compat/index.js';
import { containerRouting, type ContainerSummary } from '../../src/docker/container.js';
import { readLabels, type RouteIntent } from '../../src/docker/labels.js';
import { Codes } from '../../src/errors.js';
import { fixturePath } from '../support/repo.js';

interface Case {
  /** Why the case exists. */
  readonly about: string;
  readonly labels: Record<string, string>;
  /** berth labels that must read to the same routes. */
  readonly native?: Record<string, string>;
  readonly expect: {
    readonly enable: boolean | null;
    readonly routes: ReadonlyArray<Record<string, unknown>>;
    readonly problems: ReadonlyArray<{ code: string; label?: string }>;
  };
}

const folder = fixturePath('compat/traefik');

/** An intent with only what differs from the defaults, so a case says what matters. */
function view(route: RouteIntent): Record<string, unknown> {
  return {
    name: route.name,
    hosts: route.hosts,
    path: route.path,
    ...(route.stripPrefix ? { stripPrefix: true } : {}),
    ...(route.scheme !== 'http' ? { scheme: route.scheme } : {}),
    ...(route.port !== null ? { port: route.port } : {}),
    ...(route.network !== null ? { network: route.network } : {}),
    ...(route.tls !== null ? { tls: route.tls } : {}),
    ...(route.tls && !route.tlsRedirect ? { tlsRedirect: false } : {}),
    ...(route.hsts !== null ? { hsts: route.hsts } : {}),
    ...(route.behaviours ? { behaviours: route.behaviours } : {}),
  };
}

/** A default route without hosts beside named ones is no route (containerRouting skips it). */
function routed(routes: readonly RouteIntent[]): RouteIntent[] {
  return routes.filter((route) => !(route.name === 'default' && route.hosts === null && routes.length > 1));
}

describe('--compat traefik: golden cases', () => {
  for (const file of readdirSync(folder).filter((name) => name.endsWith('.yml')).sort()) {
    const golden = parse(readFileSync(`${folder}/${file}`, 'utf8')) as Case;
    it(`${file.replace(/\.yml$/, '')}: ${golden.about}`, () => {
      const reading = readContainerLabels(golden.labels, 'berth', ['traefik']);
      assert.deepEqual(
        {
          enable: reading.enable,
          routes: reading.routes.map(view),
          problems: reading.problems.map((problem) => ({ code: problem.code, ...(problem.label ? { label: problem.label } : {}) })),
        },
        golden.expect,
      );
      if (golden.native) {
        const native = readLabels(golden.native, 'berth');
        assert.deepEqual(native.problems, [], 'the berth labels read without problems');
        assert.deepEqual(routed(native.routes).map(view), golden.expect.routes, 'the berth labels read the same');
      }
    });
  }
});

describe('--compat traefik: around the translator', () => {
  const labels = { 'traefik.http.routers.app.rule': 'Host(`app.test`)' };

  it('reads nothing of Traefik without --compat traefik', () => {
    const reading = readContainerLabels(labels, 'berth', []);
    assert.deepEqual(routed(reading.routes).filter((route) => route.hosts !== null), []);
    assert.deepEqual(reading.problems, []);
  });

  it('names the Traefik label in the problems berth finds later, such as a port to choose', () => {
    const container: ContainerSummary = { id: 'c1', name: 'app', labels, state: 'running', status: 'Up', health: null, ports: [80, 443], networks: { bridge: '172.17.0.2' }, networkMode: 'bridge' };
    const routing = containerRouting(container, { labelPrefix: 'berth', domain: null, exposedByDefault: true, network: null, own: null, compat: ['traefik'] }, null);
    assert.deepEqual(routing.routes, []);
    const problem = routing.problems.find((p) => p.code === Codes.portAmbiguous);
    assert.equal(problem?.label, 'traefik.http.services.app.loadbalancer.server.port');
    assert.match(problem?.fix ?? '', /set traefik\.http\.services\.app\.loadbalancer\.server\.port/);
  });

  it('routes a closed route to the container all the same, so a shorter path cannot serve it', () => {
    const closed = { ...labels, 'traefik.http.routers.app.middlewares': 'sso@file' };
    const container: ContainerSummary = { id: 'c1', name: 'app', labels: closed, state: 'running', status: 'Up', health: null, ports: [80], networks: { bridge: '172.17.0.2' }, networkMode: 'bridge' };
    const routing = containerRouting(container, { labelPrefix: 'berth', domain: null, exposedByDefault: true, network: null, own: null, compat: ['traefik'] }, null);
    assert.deepEqual(routing.routes.map((route) => [route.host, route.path, route.behaviours]), [['app.test', '/', { failClosed: true }]]);
  });
});
