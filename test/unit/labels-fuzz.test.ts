// Property-based: whatever labels and container data arrive, routing never throws, every
// rejection carries a stable code, and a container's valid routes survive its bad ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { containerRouting, type ContainerSummary, type RoutingOptions } from '../../src/docker/container.js';
import { Codes } from '../../src/errors.js';

const CODES = new Set<string>(Object.values(Codes));
const KEYS = ['enable', 'host', 'port', 'path', 'strip-prefix', 'scheme', 'network'];

const labelKey = fc.oneof(
  fc.constantFrom(...KEYS).map((key) => `berth.${key}`),
  fc.tuple(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), fc.constantFrom(...KEYS, 'colour', '')).map(([name, key]) => `berth.route.${name}.${key}`),
  fc.string().map((junk) => `berth.${junk}`),
  fc.string(),
);
const labelValue = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('true', 'false', '80', '0', '65536', '/api', 'a.test,*.b.test', 'https', 'bridge', ''));

const summary = fc.record({
  id: fc.stringMatching(/^[0-9a-f]{12,64}$/),
  name: fc.string({ maxLength: 80 }),
  state: fc.constantFrom('running', 'paused', 'restarting', 'exited'),
  status: fc.string(),
  health: fc.constantFrom(null, 'healthy', 'unhealthy', 'starting'),
  ports: fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { maxLength: 4 }).map((ports) => ports.sort((a, b) => a - b)),
  networks: fc.dictionary(fc.constantFrom('bridge', 'front', 'back', 'host'), fc.oneof(fc.ipV4(), fc.constant(''))),
  networkMode: fc.constantFrom('default', 'bridge', 'host', 'none'),
});

const options = fc.record({
  labelPrefix: fc.constant('berth'),
  domain: fc.constantFrom(null, 'example.test'),
  exposedByDefault: fc.boolean(),
  network: fc.constantFrom(null, 'bridge', 'front'),
  own: fc.constantFrom(null, { name: 'berth', networks: [], hostAddress: '127.0.0.1' }, { name: 'berth', networks: ['front'], hostAddress: null }, { name: 'berth', networks: ['back', 'front'], hostAddress: '10.0.0.1' }),
}) as fc.Arbitrary<RoutingOptions>;

describe('label fuzzing', () => {
  it('never throws, and every problem carries a stable code', () => {
    fc.assert(
      fc.property(summary, fc.dictionary(labelKey, labelValue, { maxKeys: 12 }), options, fc.constantFrom(null, 'container is stopping'), (base, labels, routing, notReady) => {
        const result = containerRouting({ ...base, labels } as ContainerSummary, routing, notReady);
        for (const problem of result.problems) assert.ok(CODES.has(problem.code), `unknown code ${problem.code}`);
        for (const route of result.routes) {
          assert.ok(route.host === null || route.host.length > 0);
          assert.ok(route.path.startsWith('/'));
          assert.ok(route.endpoint.port >= 1 && route.endpoint.port <= 65535);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps a fully specified route whatever else the labels say', () => {
    const others = fc.dictionary(labelKey.filter((key) => !key.startsWith('berth.route.good.') && key !== 'berth.enable'), labelValue, { maxKeys: 12 });
    fc.assert(
      fc.property(summary, others, options, (base, labels, routing) => {
        const good = { 'berth.route.good.host': 'good.test', 'berth.route.good.port': '8080', 'berth.route.good.scheme': 'http', 'berth.route.good.network': 'front', 'berth.route.good.path': '/' };
        const container = { ...base, state: 'running', networkMode: 'default', networks: { ...base.networks, front: '10.1.2.3' }, labels: { ...labels, ...good } } as ContainerSummary;
        const result = containerRouting(container, routing, null);
        const route = result.routes.find((r) => r.host === 'good.test' && r.endpoint.key.endsWith('/good'));
        assert.ok(route, `good route lost; problems: ${JSON.stringify(result.problems)}`);
        assert.equal(route.endpoint.address, '10.1.2.3');
        assert.equal(route.endpoint.port, 8080);
      }),
      { numRuns: 2000 },
    );
  });
});
