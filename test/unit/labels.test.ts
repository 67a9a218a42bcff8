import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readLabels, type RouteIntent } from '../../src/docker/labels.js';
import { Codes } from '../../src/errors.js';

function route(reading: { routes: readonly RouteIntent[] }, name: string): RouteIntent | undefined {
  return reading.routes.find((r) => r.name === name);
}

function codes(reading: { problems: readonly { code: string }[] }): string[] {
  return reading.problems.map((p) => p.code);
}

describe('readLabels: golden cases', () => {
  it('reads nothing from a container without berth labels', () => {
    const reading = readLabels({ 'com.docker.compose.service': 'web', maintainer: 'me' }, 'berth');
    assert.equal(reading.enable, null);
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(reading.routes, [
      { name: 'default', hosts: null, path: '/', stripPrefix: false, scheme: 'http', port: null, network: null, allowEncoded: null, tls: null, tlsRedirect: true, hsts: null, behaviours: null },
    ]);
  });

  it('reads enable=true and enable=false', () => {
    assert.equal(readLabels({ 'berth.enable': 'true' }, 'berth').enable, true);
    assert.equal(readLabels({ 'berth.enable': 'false' }, 'berth').enable, false);
    assert.equal(readLabels({ 'berth.enable': ' TRUE ' }, 'berth').enable, true);
  });

  it('reads one host as a single-host route with defaults for everything else', () => {
    const reading = readLabels({ 'berth.host': 'app.example.test' }, 'berth');
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(reading.routes, [
      { name: 'default', hosts: ['app.example.test'], path: '/', stripPrefix: false, scheme: 'http', port: null, network: null, allowEncoded: null, tls: null, tlsRedirect: true, hsts: null, behaviours: null },
    ]);
  });

  it('reads several comma-separated hosts, lowercased, trimmed and without duplicates', () => {
    const reading = readLabels({ 'berth.host': ' App.Example.test , www.example.test,app.example.test.,' }, 'berth');
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(route(reading, 'default')?.hosts, ['app.example.test', 'www.example.test']);
  });

  it('reads a wildcard host next to an exact one', () => {
    const reading = readLabels({ 'berth.host': '*.example.test, example.test' }, 'berth');
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(route(reading, 'default')?.hosts, ['*.example.test', 'example.test']);
  });

  it('reads every top-level key at once', () => {
    const reading = readLabels(
      {
        'berth.enable': 'true',
        'berth.host': 'api.example.test',
        'berth.port': '8080',
        'berth.path': '/api/',
        'berth.strip-prefix': 'true',
        'berth.scheme': 'HTTPS',
        'berth.network': ' backend ',
      },
      'berth',
    );
    assert.deepEqual(reading.problems, []);
    assert.equal(reading.enable, true);
    assert.deepEqual(reading.routes, [
      { name: 'default', hosts: ['api.example.test'], path: '/api', stripPrefix: true, scheme: 'https', port: 8080, network: 'backend', allowEncoded: null, tls: null, tlsRedirect: true, hsts: null, behaviours: null },
    ]);
  });

  it('accepts the port bounds 1 and 65535', () => {
    assert.equal(route(readLabels({ 'berth.host': 'a.test', 'berth.port': '1' }, 'berth'), 'default')?.port, 1);
    assert.equal(route(readLabels({ 'berth.host': 'a.test', 'berth.port': '65535' }, 'berth'), 'default')?.port, 65535);
  });

  it('reads a named route with its own keys', () => {
    const reading = readLabels(
      {
        'berth.route.admin.host': 'admin.example.test',
        'berth.route.admin.port': '9000',
        'berth.route.admin.path': '/admin',
        'berth.route.admin.strip-prefix': 'true',
        'berth.route.admin.scheme': 'https',
        'berth.route.admin.network': 'mgmt',
        'berth.route.admin.allow-encoded': 'slash',
      },
      'berth',
    );
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(route(reading, 'admin'), {
      name: 'admin',
      hosts: ['admin.example.test'],
      path: '/admin',
      stripPrefix: true,
      scheme: 'https',
      port: 9000,
      network: 'mgmt',
      allowEncoded: ['slash'],
      tls: null,
      tlsRedirect: true,
      hsts: null,
      behaviours: null,
    });
  });

  it('lets a named route inherit port, scheme and network from the top-level labels', () => {
    const reading = readLabels(
      {
        'berth.host': 'app.example.test',
        'berth.port': '8080',
        'berth.scheme': 'https',
        'berth.network': 'front',
        'berth.route.api.path': '/api',
      },
      'berth',
    );
    assert.deepEqual(reading.problems, []);
    const api = route(reading, 'api');
    assert.equal(api?.port, 8080);
    assert.equal(api?.scheme, 'https');
    assert.equal(api?.network, 'front');
    assert.equal(api?.path, '/api');
  });

  it('lets a named route inherit the hosts of the top-level host label', () => {
    const reading = readLabels({ 'berth.host': 'a.example.test,b.example.test', 'berth.route.api.path': '/api' }, 'berth');
    assert.deepEqual(route(reading, 'api')?.hosts, ['a.example.test', 'b.example.test']);
  });

  it('does not let a named route inherit the top-level path or strip-prefix', () => {
    const reading = readLabels({ 'berth.host': 'a.test', 'berth.path': '/web', 'berth.strip-prefix': 'true', 'berth.route.api.port': '81' }, 'berth');
    assert.equal(route(reading, 'api')?.path, '/');
    assert.equal(route(reading, 'api')?.stripPrefix, false);
    assert.equal(route(reading, 'default')?.path, '/web');
  });

  it('lets a named route override what it would inherit', () => {
    const reading = readLabels(
      { 'berth.host': 'a.test', 'berth.port': '80', 'berth.scheme': 'https', 'berth.route.x.host': 'x.test', 'berth.route.x.port': '81', 'berth.route.x.scheme': 'http' },
      'berth',
    );
    assert.deepEqual(route(reading, 'x'), { name: 'x', hosts: ['x.test'], path: '/', stripPrefix: false, scheme: 'http', port: 81, network: null, allowEncoded: null, tls: null, tlsRedirect: true, hsts: null, behaviours: null });
    assert.equal(route(reading, 'default')?.port, 80);
  });

  it('lists named routes after the default one, ordered by name', () => {
    const reading = readLabels({ 'berth.route.zeta.host': 'z.test', 'berth.route.alpha.host': 'a.test', 'berth.host': 'd.test' }, 'berth');
    assert.deepEqual(reading.routes.map((r) => r.name), ['default', 'alpha', 'zeta']);
  });

  it('accepts route names with letters, digits, "-" and "_"', () => {
    const reading = readLabels({ 'berth.route.Web_2-x.host': 'w.test' }, 'berth');
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(route(reading, 'Web_2-x')?.hosts, ['w.test']);
  });

  it('reads labels under a custom prefix and ignores the default prefix then', () => {
    const reading = readLabels(
      { 'proxy.host': 'custom.example.test', 'proxy.port': '3000', 'proxy.route.x.path': '/x', 'berth.host': 'ignored.example.test', 'berth.bogus': '1' },
      'proxy',
    );
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(route(reading, 'default')?.hosts, ['custom.example.test']);
    assert.equal(route(reading, 'default')?.port, 3000);
    assert.equal(route(reading, 'x')?.path, '/x');
  });

  it('reads a dotted custom prefix', () => {
    const reading = readLabels({ 'com.example.edge.host': 'a.test', 'com.example.edge.enable': 'true' }, 'com.example.edge');
    assert.deepEqual(reading.problems, []);
    assert.equal(reading.enable, true);
    assert.deepEqual(route(reading, 'default')?.hosts, ['a.test']);
  });

  it('does not take a label that only starts with the prefix text', () => {
    const reading = readLabels({ 'berthx.host': 'a.test' }, 'berth');
    assert.deepEqual(reading.problems, []);
    assert.equal(route(reading, 'default')?.hosts, null);
  });
});

describe('readLabels: bad values', () => {
  it('reports a bad enable boolean and exposes nothing, since an unreadable opt-in is not a yes', () => {
    const reading = readLabels({ 'berth.enable': 'yes please', 'berth.host': 'a.test' }, 'berth');
    assert.deepEqual(codes(reading), [Codes.labelBoolean]);
    assert.equal(reading.problems[0]?.label, 'berth.enable');
    assert.equal(reading.enable, false);
    assert.deepEqual(reading.routes, []);
  });

  it('reports a bad strip-prefix boolean and drops only that route', () => {
    const reading = readLabels({ 'berth.host': 'a.test', 'berth.route.ok.host': 'ok.test', 'berth.route.bad.host': 'bad.test', 'berth.route.bad.strip-prefix': 'maybe' }, 'berth');
    assert.deepEqual(codes(reading), [Codes.labelBoolean]);
    assert.equal(reading.problems[0]?.label, 'berth.route.bad.strip-prefix');
    assert.deepEqual(reading.routes.map((r) => r.name), ['default', 'ok']);
  });

  it('reports a bad top-level host and keeps a named route that has its own host', () => {
    const reading = readLabels({ 'berth.host': 'not a host!', 'berth.route.ok.host': 'ok.test' }, 'berth');
    assert.deepEqual(codes(reading), [Codes.labelHost]);
    assert.equal(reading.problems[0]?.label, 'berth.host');
    assert.deepEqual(reading.routes.map((r) => r.name), ['ok']);
  });

  it('drops a named route that would inherit an unreadable top-level host', () => {
    const reading = readLabels({ 'berth.host': 'bad_host', 'berth.route.api.path': '/api' }, 'berth');
    assert.deepEqual(codes(reading), [Codes.labelHost]);
    assert.deepEqual(reading.routes, []);
  });

  for (const bad of ['foo_bar.test', '-lead.test', 'a.*.test', '*', 'host:80', 'a b.test', `${'a'.repeat(64)}.test`]) {
    it(`rejects the host "${bad.length > 30 ? bad.slice(0, 12) + '...' : bad}" with a host problem while another route survives`, () => {
      const reading = readLabels({ 'berth.route.bad.host': bad, 'berth.route.good.host': 'good.test' }, 'berth');
      assert.deepEqual(codes(reading), [Codes.labelHost]);
      assert.equal(reading.problems[0]?.label, 'berth.route.bad.host');
      assert.deepEqual(reading.routes.filter((r) => r.hosts !== null).map((r) => r.name), ['good']);
    });
  }

  it('reports a bad entry in a host list and keeps the good hostnames of that list', () => {
    const reading = readLabels({ 'berth.host': 'a.test, bad_host' }, 'berth');
    assert.deepEqual(codes(reading), [Codes.labelHost]);
    assert.deepEqual(route(reading, 'default')?.hosts, ['a.test']);
  });

  for (const empty of ['', ' ', ' , ,']) {
    it(`reports an empty host label (${JSON.stringify(empty)}) and drops that route only`, () => {
      const reading = readLabels({ 'berth.route.empty.host': empty, 'berth.route.good.host': 'good.test' }, 'berth');
      assert.deepEqual(codes(reading), [Codes.labelHost]);
      assert.equal(reading.problems[0]?.label, 'berth.route.empty.host');
      assert.deepEqual(reading.routes.filter((r) => r.hosts !== null).map((r) => r.name), ['good']);
    });
  }

  for (const bad of ['0', '65536', 'abc', '-1', '80.5', '', '123456']) {
    it(`drops a route whose port label is ${JSON.stringify(bad)}, keeping the others`, () => {
      const reading = readLabels({ 'berth.host': 'a.test', 'berth.route.bad.port': bad, 'berth.route.good.port': '8080' }, 'berth');
      assert.deepEqual(codes(reading), [Codes.labelPort]);
      assert.equal(reading.problems[0]?.label, 'berth.route.bad.port');
      assert.deepEqual(reading.routes.map((r) => r.name), ['default', 'good']);
    });
  }

  for (const [key, bad, good, code] of [
    ['port', 'abc', '9000', Codes.labelPort],
    ['scheme', 'gopher', 'https', Codes.labelScheme],
    ['network', ' ', 'back', Codes.labelNetwork],
  ] as const) {
    it(`drops the routes that inherit a bad top-level ${key} but keeps a named route that sets its own ${key}`, () => {
      const reading = readLabels(
        { 'berth.host': 'a.test', [`berth.${key}`]: bad, 'berth.route.inherits.path': '/i', 'berth.route.own.host': 'own.test', [`berth.route.own.${key}`]: good },
        'berth',
      );
      assert.deepEqual(codes(reading), [code]);
      assert.equal(reading.problems[0]?.label, `berth.${key}`);
      assert.equal(route(reading, 'default'), undefined);
      assert.equal(route(reading, 'inherits'), undefined);
      assert.deepEqual(route(reading, 'own')?.hosts, ['own.test']);
      assert.equal(String(route(reading, 'own')?.[key]), good);
    });
  }

  for (const bad of ['api', 'api/x', '/api/../admin', '/..', '/a/./b', '/a b', '/a?x', '/a#x', '/a%2e']) {
    it(`drops a route whose path is ${JSON.stringify(bad)}, keeping the others`, () => {
      const reading = readLabels({ 'berth.host': 'a.test', 'berth.path': bad, 'berth.route.good.host': 'g.test', 'berth.route.good.path': '/good' }, 'berth');
      assert.deepEqual(codes(reading), [Codes.labelPath]);
      assert.equal(reading.problems[0]?.label, 'berth.path');
      assert.deepEqual(reading.routes.map((r) => r.name), ['good']);
    });
  }

  it('reports a bad path on a named route and keeps the default route', () => {
    const reading = readLabels({ 'berth.host': 'a.test', 'berth.route.api.path': '/x/../y' }, 'berth');
    assert.deepEqual(codes(reading), [Codes.labelPath]);
    assert.equal(reading.problems[0]?.label, 'berth.route.api.path');
    assert.deepEqual(reading.routes.map((r) => r.name), ['default']);
  });

  for (const bad of ['ftp', 'ws', '', 'http:']) {
    it(`reports the scheme ${JSON.stringify(bad)} and drops that route, keeping the others`, () => {
      const reading = readLabels({ 'berth.host': 'a.test', 'berth.route.bad.scheme': bad, 'berth.route.good.scheme': 'https' }, 'berth');
      assert.deepEqual(codes(reading), [Codes.labelScheme]);
      assert.equal(reading.problems[0]?.label, 'berth.route.bad.scheme');
      assert.deepEqual(reading.routes.map((r) => r.name), ['default', 'good']);
    });
  }

  it('reports a bad top-level scheme and drops the default route', () => {
    const reading = readLabels({ 'berth.host': 'a.test', 'berth.scheme': 'gopher' }, 'berth');
    assert.deepEqual(codes(reading), [Codes.labelScheme]);
    assert.equal(route(reading, 'default'), undefined);
  });

  it('reports an empty network label and drops that route, keeping the others', () => {
    const reading = readLabels({ 'berth.host': 'a.test', 'berth.route.bad.network': '  ', 'berth.route.good.network': 'net' }, 'berth');
    assert.deepEqual(codes(reading), [Codes.labelNetwork]);
    assert.equal(reading.problems[0]?.label, 'berth.route.bad.network');
    assert.deepEqual(reading.routes.map((r) => r.name), ['default', 'good']);
  });

  it('reports an empty top-level network and drops the default route', () => {
    const reading = readLabels({ 'berth.host': 'a.test', 'berth.network': '' }, 'berth');
    assert.deepEqual(codes(reading), [Codes.labelNetwork]);
    assert.equal(route(reading, 'default'), undefined);
  });

  it('reports an unknown top-level key and still reads the known ones', () => {
    const reading = readLabels({ 'berth.hostname': 'a.test', 'berth.host': 'b.test' }, 'berth');
    assert.deepEqual(codes(reading), [Codes.labelUnknown]);
    assert.equal(reading.problems[0]?.label, 'berth.hostname');
    assert.deepEqual(route(reading, 'default')?.hosts, ['b.test']);
  });

  it('reports an unknown key of a named route and keeps that route', () => {
    const reading = readLabels({ 'berth.route.api.host': 'api.test', 'berth.route.api.prot': '80' }, 'berth');
    assert.deepEqual(codes(reading), [Codes.labelUnknown]);
    assert.equal(reading.problems[0]?.label, 'berth.route.api.prot');
    assert.deepEqual(route(reading, 'api')?.hosts, ['api.test']);
  });

  it('does not accept enable as a key of a named route', () => {
    const reading = readLabels({ 'berth.route.api.enable': 'true', 'berth.host': 'a.test' }, 'berth');
    assert.deepEqual(codes(reading), [Codes.labelUnknown]);
  });

  for (const label of ['berth.route.bad name.host', 'berth.route.a.b.host', 'berth.route..host', 'berth.route.web', `berth.route.${'r'.repeat(64)}.host`]) {
    it(`reports the bad route label ${JSON.stringify(label.length > 40 ? label.slice(0, 20) + '...' : label)} and keeps the valid routes`, () => {
      const reading = readLabels({ [label]: 'x.test', 'berth.route.good.host': 'good.test' }, 'berth');
      assert.deepEqual(codes(reading), [Codes.labelUnknown]);
      assert.equal(reading.problems[0]?.label, label);
      assert.deepEqual(reading.routes.map((r) => r.name).filter((n) => n !== 'default'), ['good']);
    });
  }

  it('reports every bad value of one container together', () => {
    const reading = readLabels(
      {
        'berth.host': 'a.test',
        'berth.route.p.port': '0',
        'berth.route.s.scheme': 'ftp',
        'berth.route.h.host': '',
        'berth.route.x.path': 'nope',
        'berth.route.n.network': '',
        'berth.route.b.strip-prefix': 'sure',
        'berth.what': 'x',
      },
      'berth',
    );
    assert.deepEqual(
      codes(reading).sort(),
      [Codes.labelBoolean, Codes.labelHost, Codes.labelNetwork, Codes.labelPath, Codes.labelPort, Codes.labelScheme, Codes.labelUnknown].sort(),
    );
    assert.deepEqual(reading.routes.map((r) => r.name), ['default']);
  });
});

describe('readLabels: allow-encoded', () => {
  it('reads the encoded characters a route allows, and lets named routes inherit them', () => {
    const reading = readLabels({ 'berth.host': 'a.test', 'berth.allow-encoded': 'Slash, nul', 'berth.route.api.path': '/api', 'berth.route.raw.allow-encoded': 'backslash' }, 'berth');
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(reading.routes.map((r) => [r.name, r.allowEncoded]), [['default', ['slash', 'nul']], ['api', ['slash', 'nul']], ['raw', ['backslash']]]);
  });

  it('drops only the route whose allow-encoded it cannot read', () => {
    const reading = readLabels({ 'berth.host': 'a.test', 'berth.route.api.path': '/api', 'berth.route.api.allow-encoded': 'slash,percent' }, 'berth');
    assert.deepEqual(codes(reading), [Codes.labelEncoded]);
    assert.deepEqual(reading.routes.map((r) => r.name), ['default']);
  });

  it('reads yes/no and on/off as booleans too', () => {
    const reading = readLabels({ 'berth.host': 'a.test', 'berth.enable': 'yes', 'berth.strip-prefix': 'on', 'berth.path': '/x' }, 'berth');
    assert.deepEqual([reading.enable, reading.routes[0]?.stripPrefix], [true, true]);
  });
});

describe('readLabels: HTTPS', () => {
  it('reads tls, tls.redirect and hsts, and lets named routes inherit or override them', () => {
    const reading = readLabels(
      {
        'berth.host': 'a.example.com',
        'berth.tls': 'true',
        'berth.hsts': '31536000; includesubdomains',
        'berth.route.api.path': '/api',
        'berth.route.plain.path': '/plain',
        'berth.route.plain.tls': 'false',
        'berth.route.both.path': '/both',
        'berth.route.both.tls.redirect': 'false',
      },
      'berth',
    );
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(
      reading.routes.map((r) => [r.name, r.tls, r.tlsRedirect, r.hsts]),
      [
        ['default', true, true, 'max-age=31536000; includeSubDomains'],
        ['api', true, true, 'max-age=31536000; includeSubDomains'],
        ['both', true, false, 'max-age=31536000; includeSubDomains'],
        ['plain', false, true, 'max-age=31536000; includeSubDomains'],
      ],
    );
  });

  it('reports an unreadable hsts with its code and drops only that route', () => {
    const reading = readLabels({ 'berth.host': 'a.example.com', 'berth.route.api.path': '/api', 'berth.route.api.hsts': 'forever' }, 'berth');
    assert.deepEqual(codes(reading), [Codes.labelHsts]);
    assert.deepEqual(reading.routes.map((r) => r.name), ['default']);
  });
});

describe('readLabels: behaviours', () => {
  it('reads behaviour keys per route, named routes taking the top-level ones key by key', () => {
    const reading = readLabels(
      {
        'berth.host': 'a.example.com',
        'berth.allow': '10.0.0.0/8',
        'berth.headers.response.X-Frame-Options': 'DENY',
        'berth.route.api.path': '/api',
        'berth.route.api.allow': '192.168.0.0/16',
      },
      'berth',
    );
    assert.deepEqual(reading.problems, []);
    const spec = (name: string) => reading.routes.find((r) => r.name === name)?.behaviours;
    assert.deepEqual(spec('default')?.allow, ['10.0.0.0/8']);
    assert.deepEqual(spec('api')?.allow, ['192.168.0.0/16']);
    assert.deepEqual(spec('api')?.responseHeaders, [['X-Frame-Options', 'DENY']]);
  });

  it('keeps a route whose auth cannot be read, closed, and says so once', () => {
    const reading = readLabels({ 'berth.host': 'a.example.com', 'berth.auth.basic': 'nobody', 'berth.route.api.path': '/api' }, 'berth');
    assert.deepEqual(reading.routes.map((r) => [r.name, r.behaviours?.failClosed]), [['default', true], ['api', true]]);
    assert.deepEqual(codes(reading), [Codes.behaviourAuth]);
  });
});

describe('readLabels: redirects', () => {
  it('reads redirect and redirect-code per route, the path kept and no port needed', () => {
    const reading = readLabels({ 'berth.host': 'old.example.com', 'berth.redirect': 'https://new.example.com/base/', 'berth.redirect-code': '308' }, 'berth');
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(reading.routes[0]?.redirect, { location: 'https://new.example.com/base', code: 308 });
  });

  it('reports a redirect that is no plain URL, or a code that is no redirect, and drops that route', () => {
    const cases: Array<Record<string, string>> = [{ 'berth.redirect': 'ftp://x' }, { 'berth.redirect': 'https://x.test', 'berth.redirect-code': '200' }, { 'berth.redirect-code': '301' }];
    for (const labels of cases) {
      const reading = readLabels({ 'berth.host': 'old.example.com', ...labels }, 'berth');
      assert.deepEqual(codes(reading), [Codes.labelRedirect], JSON.stringify(labels));
      assert.deepEqual(reading.routes, []);
    }
  });
});
