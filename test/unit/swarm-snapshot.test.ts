// Golden cases for the swarm snapshot: one YAML file per case under test/fixtures/swarm, holding the
// services with their tasks, the local containers (berth's own among them) and options in, and the
// expected routes and reports out.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ContainerSummary, RoutingOptions } from '../../src/docker/container.js';
import type { ServiceSummary, TaskSummary } from '../../src/swarm/engine.js';
import { swarmSnapshot, TASK_ID_LABEL, type SwarmList, type SwarmSnapshot } from '../../src/swarm/snapshot.js';
import { RouteStore } from '../../src/routes/store.js';
import { networkFromEngine, serviceFromEngine, taskFromEngine } from '../../src/swarm/engine.js';
import { fixturePath } from '../support/repo.js';
import { swarmAnswer } from '../support/swarm-answer.js';

interface TaskCase {
  readonly id?: string;
  readonly slot?: number;
  readonly node?: string;
  readonly state?: string;
  readonly desired?: string;
  readonly networks: Record<string, string>;
  /** Health of its container on this node; absent: not on this node or no health check. */
  readonly health?: string;
  readonly stopping?: boolean;
}

interface ServiceCase {
  readonly name: string;
  readonly labels?: Record<string, string>;
  readonly ports?: number[];
  readonly mode?: 'replicated' | 'global';
  readonly endpointMode?: string;
  /** Virtual IPs by network name. */
  readonly vips?: Record<string, string>;
  readonly tasks: TaskCase[];
}

interface Case {
  readonly about: string;
  readonly options?: Partial<Omit<RoutingOptions, 'own'>>;
  readonly own?: string;
  readonly containers?: ReadonlyArray<Partial<ContainerSummary> & { name: string }>;
  readonly services: ServiceCase[];
  readonly expect: Expected & { fixes?: Record<string, string> };
}

interface Expected {
  readonly own: { networks: string[] } | null;
  /** Per service, by name: "host path -> scheme://address:port (why not ready)", task readiness, problem codes. */
  readonly services: Record<string, { lb: string; routed: boolean; routes: string[]; tasks: Record<string, boolean | string>; problems: string[] }>;
}

const folder = fixturePath('swarm');

/** The case as the Engine API would have it listed, and the stopping marks. */
function listOf(golden: Case): { list: SwarmList; own: ContainerSummary | null; stopping: Set<string> } {
  const networkIds = new Map<string, string>();
  const idOf = (name: string) => networkIds.get(name) ?? (networkIds.set(name, `net-${name}`), `net-${name}`);
  const services: ServiceSummary[] = [];
  const tasks: TaskSummary[] = [];
  const containers: ContainerSummary[] = (golden.containers ?? []).map((given) => ({ id: `id-${given.name}`, labels: {}, state: 'running', status: 'Up 1 minute', health: null, ports: [], networks: {}, networkMode: 'default', ...given }));
  const stopping = new Set<string>();
  for (const given of golden.services) {
    const id = given.name === golden.own ? 'svc-berth' : `svc-${given.name}`;
    const virtualIps = Object.fromEntries(Object.entries(given.vips ?? {}).map(([name, address]) => [idOf(name), address]));
    services.push({ id, name: given.name, labels: given.labels ?? {}, mode: given.mode ?? 'replicated', replicas: given.mode === 'global' ? null : given.tasks.length, endpointMode: given.endpointMode ?? 'vip', virtualIps, ports: given.ports ?? [] });
    for (const task of given.tasks) {
      const taskId = task.id ?? `${given.name}-${task.slot ?? task.node}`;
      for (const name of Object.keys(task.networks)) idOf(name);
      tasks.push({ id: taskId, serviceId: id, slot: task.slot ?? null, nodeId: task.node ?? 'node-1', state: task.state ?? 'running', desiredState: task.desired ?? 'running', containerId: `c-${taskId}`, networks: task.networks });
      if (task.health !== undefined) containers.push({ id: `c-${taskId}`, name: `${given.name}.${task.slot}.x`, labels: { [TASK_ID_LABEL]: taskId }, state: 'running', status: '', health: task.health, ports: [], networks: task.networks, networkMode: 'default' });
      if (task.stopping) stopping.add(taskId);
    }
  }
  const networks = [...networkIds].map(([name, id]) => ({ id, name, ingress: name === 'ingress' }));
  const own = golden.own === undefined ? null : containers.find((container) => container.name === golden.own)!;
  return { list: { services, tasks, networks, containers }, own, stopping };
}

function view(result: SwarmSnapshot): Expected {
  const services: Expected['services'] = {};
  for (const report of result.reports) {
    services[report.name] = {
      lb: report.lb,
      routed: report.routed,
      routes: result.routes
        .filter((route) => (route.endpoint ? report.tasks.some((task) => route.endpoint.key.startsWith(`${task.id}/`)) || route.endpoint.key.startsWith(`${report.id}/`) : route.redirect.origin === `service ${report.name}`))
        .map((route) =>
          route.endpoint
            ? `${route.host ?? '*'} ${route.path} -> ${route.endpoint.scheme}://${route.endpoint.address}:${route.endpoint.port}${route.endpoint.ready ? '' : ` (${route.endpoint.notReadyReason})`}`
            : `${route.host ?? '*'} ${route.path} -> redirect://${route.redirect.location}:${route.redirect.code}`,
        ),
      tasks: Object.fromEntries(report.tasks.map((task) => [task.name, task.ready || (task.notReadyReason ?? false)])),
      problems: report.problems.map((problem) => problem.code),
    };
  }
  return { own: result.own && { networks: [...result.own.networks] }, services };
}

const OPTIONS = { labelPrefix: 'berth', domain: null, exposedByDefault: true, network: null };

describe('swarm snapshot: golden cases', () => {
  for (const file of readdirSync(folder).filter((name) => name.endsWith('.yml')).sort()) {
    const golden = parse(readFileSync(`${folder}/${file}`, 'utf8')) as Case;
    it(`${file.replace(/\.yml$/, '')}: ${golden.about}`, () => {
      const { list, own, stopping } = listOf(golden);
      const result = swarmSnapshot(list, own, stopping, { ...OPTIONS, ...golden.options });
      const { fixes, ...expected } = golden.expect;
      assert.deepEqual(view(result), expected);
      for (const [name, fix] of Object.entries(fixes ?? {})) assert.equal(result.reports.find((report) => report.name === name)?.problems[0]?.fix, fix);
      // The table gets exactly the routes the reports show, all from the swarm source.
      assert.equal(result.routes.length, result.reports.reduce((sum, report) => sum + report.routes.length, 0));
      assert.ok(result.routes.every((route) => route.source === 'swarm'));
    });
  }

  it('gives the same answer whatever order the manager lists services and tasks in', () => {
    const golden = parse(readFileSync(`${folder}/replicas-on-shared-network.yml`, 'utf8')) as Case;
    const { list, own, stopping } = listOf(golden);
    const forward = swarmSnapshot(list, own, stopping, OPTIONS);
    const backward = swarmSnapshot({ ...list, services: [...list.services].reverse(), tasks: [...list.tasks].reverse() }, own, stopping, OPTIONS);
    assert.deepEqual(forward, backward);
  });

  it('turns a 1,000-task Engine answer into one pool of 1,000 distinct task addresses (timed in bench/swarm.ts)', () => {
    const answer = swarmAnswer(1, 1_000);
    const list = {
      services: (JSON.parse(answer.services) as unknown[]).map(serviceFromEngine),
      tasks: (JSON.parse(answer.tasks) as unknown[]).map(taskFromEngine),
      networks: (JSON.parse(answer.networks) as unknown[]).map(networkFromEngine),
      containers: [],
    };
    const store = new RouteStore(['swarm']);
    store.update('swarm', swarmSnapshot(list, null, new Set(), OPTIONS).routes);
    const [pool, ...others] = store.current.pools;
    assert.equal(others.length, 0);
    assert.equal(pool!.host, 'app0.swarm.test');
    assert.equal(new Set(pool!.endpoints.map((endpoint) => `${endpoint.address}:${endpoint.port}`)).size, 1_000);
  });
});
