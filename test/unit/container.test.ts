import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { containerRouting, routingName, type ContainerSummary, type OwnPlacement, type RoutingOptions } from '../../src/docker/container.js';
import { Codes } from '../../src/errors.js';

function container(overrides: Partial<ContainerSummary> = {}): ContainerSummary {
  return {
    id: 'c0ffee',
    name: 'web',
    labels: {},
    state: 'running',
    status: 'Up 2 minutes',
    health: null,
    ports: [8080],
    networks: { bridge: '172.17.0.2' },
    networkMode: 'bridge',
    ...overrides,
  };
}

function options(overrides: Partial<RoutingOptions> = {}): RoutingOptions {
  return { labelPrefix: 'berth', domain: null, exposedByDefault: true, network: null, own: null, ...overrides };
}

/** berth in a container named berth on these networks, reaching the host at 172.17.0.1. */
function inContainer(networks: string[], hostAddress: string | null = '172.17.0.1'): Partial<RoutingOptions> {
  const own: OwnPlacement = { name: 'berth', networks, hostAddress };
  return { own };
}

function hosts(routing: { routes: readonly { host: string | null }[] }): Array<string | null> {
  return routing.routes.map((r) => r.host);
}

function codes(routing: { problems: readonly { code: string }[] }): string[] {
  return routing.problems.map((p) => p.code);
}

describe('containerRouting: opting in and out', () => {
  it('opts a container in when it has a host label', () => {
    const routing = containerRouting(container({ labels: { 'berth.host': 'app.example.test' } }), options(), null);
    assert.equal(routing.routed, true);
    assert.deepEqual(routing.problems, []);
    assert.deepEqual(routing.routes, [
      {
        host: 'app.example.test',
        path: '/',
        source: 'docker',
        endpoint: {
          key: 'c0ffee/default',
          scheme: 'http',
          address: '172.17.0.2',
          port: 8080,
          ready: true,
          stripPrefix: false,
          container: { id: 'c0ffee', name: 'web' },
        },
      },
    ]);
  });

  it('leaves a container without labels alone when there is no domain', () => {
    const routing = containerRouting(container(), options(), null);
    assert.equal(routing.routed, false);
    assert.deepEqual(routing.routes, []);
    assert.deepEqual(routing.problems, []);
  });

  it('opts a container out with enable=false even when it has a host label', () => {
    const routing = containerRouting(container({ labels: { 'berth.enable': 'false', 'berth.host': 'a.test' } }), options({ domain: 'example.test' }), null);
    assert.equal(routing.routed, false);
    assert.deepEqual(routing.routes, []);
  });

  it('routes every container by name under the domain when exposed by default', () => {
    const routing = containerRouting(container({ name: 'blog' }), options({ domain: 'example.test' }), null);
    assert.equal(routing.routed, true);
    assert.deepEqual(hosts(routing), ['blog.example.test']);
  });

  it('does not route by name without enable=true when exposed-by-default is false', () => {
    const routing = containerRouting(container({ name: 'blog' }), options({ domain: 'example.test', exposedByDefault: false }), null);
    assert.equal(routing.routed, false);
    assert.deepEqual(routing.routes, []);
  });

  it('routes by name with enable=true when exposed-by-default is false', () => {
    const routing = containerRouting(container({ name: 'blog', labels: { 'berth.enable': 'true' } }), options({ domain: 'example.test', exposedByDefault: false }), null);
    assert.equal(routing.routed, true);
    assert.deepEqual(hosts(routing), ['blog.example.test']);
  });

  it('still honours a host label when exposed-by-default is false', () => {
    const routing = containerRouting(container({ labels: { 'berth.host': 'a.test' } }), options({ domain: 'example.test', exposedByDefault: false }), null);
    assert.equal(routing.routed, true);
    assert.deepEqual(hosts(routing), ['a.test']);
  });

  it('reports a missing host when enable=true but neither a host label nor a domain is given', () => {
    const routing = containerRouting(container({ labels: { 'berth.enable': 'true' } }), options(), null);
    assert.equal(routing.routed, true);
    assert.deepEqual(routing.routes, []);
    assert.deepEqual(codes(routing), [Codes.routeNoHost]);
    assert.equal(routing.problems[0]?.label, 'berth.host');
  });

  it('gives a named route without a host the container name host under name routing', () => {
    const routing = containerRouting(
      container({ name: 'shop', labels: { 'berth.route.api.path': '/api', 'berth.route.api.port': '9000' } }),
      options({ domain: 'example.test' }),
      null,
    );
    assert.deepEqual(
      routing.routes.map((r) => [r.host, r.path, r.endpoint.port]),
      [
        ['shop.example.test', '/', 8080],
        ['shop.example.test', '/api', 9000],
      ],
    );
  });

  it('reports a named route without any host when name routing does not apply', () => {
    const routing = containerRouting(container({ labels: { 'berth.route.api.port': '9000', 'berth.route.web.host': 'w.test' } }), options(), null);
    assert.deepEqual(hosts(routing), ['w.test']);
    assert.deepEqual(codes(routing), [Codes.routeNoHost]);
    assert.equal(routing.problems[0]?.label, 'berth.route.api.host');
  });

  it('turns each host of a route into its own spec sharing one endpoint', () => {
    const routing = containerRouting(container({ labels: { 'berth.host': 'a.test,*.b.test', 'berth.path': '/x' } }), options(), null);
    assert.deepEqual(hosts(routing), ['a.test', '*.b.test']);
    assert.equal(routing.routes[0]?.endpoint, routing.routes[1]?.endpoint);
    assert.ok(routing.routes.every((r) => r.path === '/x'));
  });

  it('passes label problems through and keeps the valid routes', () => {
    const routing = containerRouting(container({ labels: { 'berth.host': 'a.test', 'berth.route.bad.port': 'x', 'berth.route.ok.host': 'ok.test' } }), options(), null);
    assert.deepEqual(codes(routing), [Codes.labelPort]);
    assert.deepEqual(hosts(routing), ['a.test', 'ok.test']);
  });
});

describe('routingName and name hosts', () => {
  it('names a compose container <service>-<project>', () => {
    const c = container({ name: 'shop-web-3', labels: { 'com.docker.compose.service': 'web', 'com.docker.compose.project': 'shop' } });
    assert.equal(routingName(c), 'web-shop');
  });

  it('uses the container name when the compose labels are incomplete', () => {
    assert.equal(routingName(container({ name: 'solo', labels: { 'com.docker.compose.service': 'web' } })), 'solo');
    assert.equal(routingName(container({ name: 'solo' })), 'solo');
  });

  it('gives all replicas of one compose service the same name host, so they form one pool', () => {
    const compose = { 'com.docker.compose.service': 'web', 'com.docker.compose.project': 'shop' };
    const a = containerRouting(container({ id: 'a', name: 'shop-web-1', labels: compose }), options({ domain: 'example.test' }), null);
    const b = containerRouting(container({ id: 'b', name: 'shop-web-2', labels: compose }), options({ domain: 'example.test' }), null);
    assert.deepEqual(hosts(a), ['web-shop.example.test']);
    assert.deepEqual(hosts(b), ['web-shop.example.test']);
  });

  it('keeps the web services of two compose projects apart', () => {
    const a = containerRouting(container({ labels: { 'com.docker.compose.service': 'web', 'com.docker.compose.project': 'one' } }), options({ domain: 'example.test' }), null);
    const b = containerRouting(container({ labels: { 'com.docker.compose.service': 'web', 'com.docker.compose.project': 'two' } }), options({ domain: 'example.test' }), null);
    assert.notDeepEqual(hosts(a), hosts(b));
  });

  it('makes a valid DNS label from a name with capitals, underscores and dots', () => {
    const routing = containerRouting(container({ name: 'My_App.v2__x' }), options({ domain: 'example.test' }), null);
    assert.deepEqual(hosts(routing), ['my-app-v2-x.example.test']);
  });

  it('cuts an over-long name to 63 characters without a trailing hyphen', () => {
    const routing = containerRouting(container({ name: 'a'.repeat(62) + '_tail' }), options({ domain: 'example.test' }), null);
    const label = (routing.routes[0]?.host ?? '').split('.')[0]!;
    assert.ok(label.length <= 63);
    assert.match(label, /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/);
  });

  it('reports a name that leaves no usable DNS label', () => {
    const routing = containerRouting(container({ name: '___' }), options({ domain: 'example.test' }), null);
    assert.deepEqual(routing.routes, []);
    assert.ok(codes(routing).includes(Codes.nameInvalid));
  });
});

describe('containerRouting: port choice', () => {
  it('takes the only exposed port', () => {
    const routing = containerRouting(container({ ports: [3000], labels: { 'berth.host': 'a.test' } }), options(), null);
    assert.equal(routing.routes[0]?.endpoint.port, 3000);
  });

  it('takes the port label over the exposed ports', () => {
    const routing = containerRouting(container({ ports: [80, 443], labels: { 'berth.host': 'a.test', 'berth.port': '443' } }), options(), null);
    assert.equal(routing.routes[0]?.endpoint.port, 443);
    assert.deepEqual(routing.problems, []);
  });

  it('does not guess among several exposed ports and names the fix', () => {
    const routing = containerRouting(container({ ports: [80, 443], labels: { 'berth.host': 'a.test' } }), options(), null);
    assert.deepEqual(routing.routes, []);
    assert.deepEqual(codes(routing), [Codes.portAmbiguous]);
    assert.equal(routing.problems[0]?.label, 'berth.port');
    assert.ok(routing.problems[0]?.fix?.includes('berth.port'));
  });

  it('does not guess when no port is exposed and names the fix', () => {
    const routing = containerRouting(container({ ports: [], labels: { 'berth.host': 'a.test' } }), options(), null);
    assert.deepEqual(routing.routes, []);
    assert.deepEqual(codes(routing), [Codes.portAmbiguous]);
    assert.ok(routing.problems[0]?.fix?.includes('berth.port'));
  });

  it('names the named route port label in the fix for a named route', () => {
    const routing = containerRouting(container({ ports: [], labels: { 'berth.route.api.host': 'a.test' } }), options(), null);
    assert.deepEqual(codes(routing), [Codes.portAmbiguous]);
    assert.ok(routing.problems[0]?.fix?.includes('berth.route.api.port'));
  });

  it('names the custom prefix in the fix', () => {
    const routing = containerRouting(container({ ports: [], labels: { 'edge.host': 'a.test' } }), options({ labelPrefix: 'edge' }), null);
    assert.deepEqual(codes(routing), [Codes.portAmbiguous]);
    assert.ok(routing.problems[0]?.fix?.includes('edge.port'));
  });
});

describe('containerRouting: network choice', () => {
  const labels = { 'berth.host': 'a.test' };

  it('takes the address on the network named by berth.network', () => {
    const routing = containerRouting(container({ labels: { ...labels, 'berth.network': 'back' }, networks: { front: '10.0.1.2', back: '10.0.2.2' } }), options(), null);
    assert.equal(routing.routes[0]?.endpoint.address, '10.0.2.2');
  });

  it('prefers berth.network over the first network shared with berth', () => {
    const routing = containerRouting(
      container({ labels: { ...labels, 'berth.network': 'back' }, networks: { front: '10.0.1.2', back: '10.0.2.2' } }),
      options(inContainer(['back', 'front'])),
      null,
    );
    assert.equal(routing.routes[0]?.endpoint.address, '10.0.2.2');
  });

  it('reports a berth.network that berth in a container is not on, with the docker network connect that fixes it', () => {
    const routing = containerRouting(
      container({ labels: { ...labels, 'berth.network': 'back' }, networks: { front: '10.0.1.2', back: '10.0.2.2' } }),
      options(inContainer(['front'])),
      null,
    );
    assert.deepEqual(routing.routes, []);
    assert.deepEqual(codes(routing), [Codes.networkNotShared]);
    assert.equal(routing.problems[0]?.label, 'berth.network');
    assert.match(routing.problems[0]?.fix ?? '', /docker network connect back berth/);
    assert.match(routing.problems[0]?.fix ?? '', /set berth\.network to front/);
  });

  it('takes a berth.network berth is not on when berth runs outside Docker', () => {
    const routing = containerRouting(container({ labels: { ...labels, 'berth.network': 'back' }, networks: { front: '10.0.1.2', back: '10.0.2.2' } }), options(), null);
    assert.equal(routing.routes[0]?.endpoint.address, '10.0.2.2');
  });

  it('reports a berth.network the container is not on', () => {
    const routing = containerRouting(container({ labels: { ...labels, 'berth.network': 'nope' }, networks: { front: '10.0.1.2' } }), options(), null);
    assert.deepEqual(routing.routes, []);
    assert.deepEqual(codes(routing), [Codes.labelNetwork]);
  });

  it('takes the network shared with berth, the first by name when several are shared', () => {
    const routing = containerRouting(
      container({ labels, networks: { zeta: '10.0.9.2', other: '10.0.5.2', alpha: '10.0.1.2' } }),
      options(inContainer(['alpha', 'zeta'])),
      null,
    );
    assert.equal(routing.routes[0]?.endpoint.address, '10.0.1.2');
  });

  it('reports a container that shares no network with berth', () => {
    const routing = containerRouting(container({ labels, networks: { other: '10.0.5.2' } }), options(inContainer(['front'])), null);
    assert.deepEqual(routing.routes, []);
    assert.deepEqual(codes(routing), [Codes.networkMissing]);
  });

  it('takes the only network when berth runs outside Docker', () => {
    const routing = containerRouting(container({ labels, networks: { mynet: '10.1.0.7' } }), options(), null);
    assert.equal(routing.routes[0]?.endpoint.address, '10.1.0.7');
  });

  it('reaches a network_mode: host container on loopback when berth runs on the host', () => {
    const routing = containerRouting(container({ labels, networks: { host: '' }, networkMode: 'host' }), options(), null);
    assert.equal(routing.routes[0]?.endpoint.address, '127.0.0.1');
  });

  it('reaches a network_mode: host container at the gateway of berth\'s network when berth runs in a container', () => {
    const routing = containerRouting(container({ labels, networks: { host: '' }, networkMode: 'host' }), options(inContainer(['front'], '10.0.1.1')), null);
    assert.deepEqual(codes(routing), []);
    assert.equal(routing.routes[0]?.endpoint.address, '10.0.1.1');
  });

  it('reports a network_mode: host container berth in a container has no way to reach', () => {
    const routing = containerRouting(container({ labels, networks: { host: '' }, networkMode: 'host' }), options(inContainer([], null)), null);
    assert.deepEqual(routing.routes, []);
    assert.deepEqual(codes(routing), [Codes.hostUnreachable]);
    assert.match(routing.problems[0]?.fix ?? '', /--network host/);
  });

  it('ignores networks where the container has no address', () => {
    const routing = containerRouting(container({ labels, networks: { mynet: '10.1.0.7', empty: '' } }), options(), null);
    assert.equal(routing.routes[0]?.endpoint.address, '10.1.0.7');
  });

  it('takes the --network network when the container is on several', () => {
    const routing = containerRouting(container({ labels, networks: { a: '10.0.1.2', b: '10.0.2.2' } }), options({ network: 'b' }), null);
    assert.equal(routing.routes[0]?.endpoint.address, '10.0.2.2');
  });

  it('never picks at random among several networks', () => {
    const routing = containerRouting(container({ labels, networks: { a: '10.0.1.2', b: '10.0.2.2' } }), options(), null);
    assert.deepEqual(routing.routes, []);
    assert.deepEqual(codes(routing), [Codes.networkAmbiguous]);
  });

  it('reports ambiguity when --network names a network the container is not on', () => {
    const routing = containerRouting(container({ labels, networks: { a: '10.0.1.2', b: '10.0.2.2' } }), options({ network: 'c' }), null);
    assert.deepEqual(codes(routing), [Codes.networkAmbiguous]);
  });

  it('reports a container with no address on any network', () => {
    const routing = containerRouting(container({ labels, networks: { none: '' } }), options(), null);
    assert.deepEqual(routing.routes, []);
    assert.deepEqual(codes(routing), [Codes.networkMissing]);
  });

  it('sends to the loopback address for a container in network_mode host', () => {
    const routing = containerRouting(container({ labels: { ...labels, 'berth.port': '8000' }, networks: { host: '' }, networkMode: 'host' }), options(), null);
    assert.equal(routing.routes[0]?.endpoint.address, '127.0.0.1');
    assert.equal(routing.routes[0]?.endpoint.port, 8000);
  });
});

describe('containerRouting: readiness', () => {
  it('marks the endpoint ready when nothing stands in the way', () => {
    const routing = containerRouting(container({ labels: { 'berth.host': 'a.test' } }), options(), null);
    assert.equal(routing.routes[0]?.endpoint.ready, true);
    assert.equal(routing.routes[0]?.endpoint.notReadyReason, undefined);
    assert.ok(!('notReadyReason' in (routing.routes[0]?.endpoint ?? {})));
  });

  it('marks the endpoint not ready with the reason passed in, and still routes it', () => {
    const routing = containerRouting(container({ labels: { 'berth.host': 'a.test' } }), options(), 'health check starting');
    assert.equal(routing.routes.length, 1);
    assert.equal(routing.routes[0]?.endpoint.ready, false);
    assert.equal(routing.routes[0]?.endpoint.notReadyReason, 'health check starting');
  });

  it('carries the scheme and strip-prefix of the labels into the endpoint', () => {
    const routing = containerRouting(container({ labels: { 'berth.host': 'a.test', 'berth.scheme': 'https', 'berth.path': '/p', 'berth.strip-prefix': 'true' } }), options(), null);
    assert.equal(routing.routes[0]?.endpoint.scheme, 'https');
    assert.equal(routing.routes[0]?.endpoint.stripPrefix, true);
  });

  it('gives each route of a container its own endpoint key', () => {
    const routing = containerRouting(container({ labels: { 'berth.host': 'a.test', 'berth.route.api.host': 'api.test' } }), options(), null);
    const keys = routing.routes.map((r) => r.endpoint.key);
    assert.equal(new Set(keys).size, 2);
  });
});
