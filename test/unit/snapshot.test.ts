// Golden cases for the snapshot: one YAML file per case under test/fixtures/snapshot, holding the
// containers, berth's own, the stopping marks and options in, and the expected routes and reports.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ContainerSummary, RoutingOptions } from '../../src/docker/container.js';
import { snapshot, type Snapshot } from '../../src/docker/snapshot.js';
import { fixturePath } from '../support/repo.js';

interface Case {
  /** Why the case exists. */
  readonly about: string;
  readonly options?: Partial<Omit<RoutingOptions, 'own'>>;
  /** The name of berth's own container among the containers; absent: berth runs on the host. */
  readonly own?: string;
  /** Names of containers marked stopping. */
  readonly stopping?: readonly string[];
  readonly containers: ReadonlyArray<Partial<ContainerSummary> & { name: string }>;
  readonly expect: Expected;
}

interface Expected {
  readonly own: { networks: string[]; hostAddress: string | null } | null;
  /** Per container, by name: "host path -> scheme://address:port", readiness, problem codes. */
  readonly containers: Record<string, { routed: boolean; ready: boolean | string; routes: string[]; problems: string[] }>;
}

const folder = fixturePath('snapshot');

function summary(given: Partial<ContainerSummary> & { name: string }): ContainerSummary {
  return { id: `id-${given.name}`, labels: {}, state: 'running', status: 'Up 1 minute', health: null, ports: [80], networks: { bridge: '172.17.0.2' }, networkMode: 'bridge', ...given };
}

function view(result: Snapshot): Expected {
  const containers: Expected['containers'] = {};
  for (const report of result.reports) {
    containers[report.name] = {
      routed: report.routed,
      ready: report.ready || (report.notReadyReason ?? false),
      routes: report.routes.map((route) => `${route.host ?? '*'} ${route.path} -> ${route.scheme}://${route.address}:${route.port}`),
      problems: report.problems.map((problem) => problem.code),
    };
  }
  return { own: result.own && { networks: [...result.own.networks], hostAddress: result.own.hostAddress }, containers };
}

describe('snapshot: golden cases', () => {
  for (const file of readdirSync(folder).filter((name) => name.endsWith('.yml')).sort()) {
    const golden = parse(readFileSync(`${folder}/${file}`, 'utf8')) as Case;
    it(`${file.replace(/\.yml$/, '')}: ${golden.about}`, () => {
      const containers = golden.containers.map(summary);
      const own = golden.own === undefined ? null : containers.find((container) => container.name === golden.own)!;
      const stopping = new Set(containers.filter((container) => golden.stopping?.includes(container.name)).map((container) => container.id));
      const options = { labelPrefix: 'berth', domain: null, exposedByDefault: true, network: null, ...golden.options };
      const result = snapshot(containers, own, stopping, options);
      assert.deepEqual(view(result), golden.expect);
      // The table gets exactly the routes the reports show.
      assert.equal(result.routes.length, result.reports.reduce((sum, report) => sum + report.routes.length, 0));
    });
  }

  it('gives the same answer whatever order Docker lists the containers in', () => {
    const containers = ['b', 'a', 'c'].map((name) => summary({ name, labels: { 'berth.host': `${name}.test` } }));
    const options = { labelPrefix: 'berth', domain: null, exposedByDefault: true, network: null };
    const forward = snapshot(containers, null, new Set(), options);
    const backward = snapshot([...containers].reverse(), null, new Set(), options);
    assert.deepEqual(forward, backward);
    assert.deepEqual(forward.reports.map((report) => report.name), ['a', 'b', 'c']);
  });
});
