import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { helpText, parseConfig, type ConfigResult } from '../../src/config/parse.js';
import { envName, settings, type Config } from '../../src/config/settings.js';

function config(argv: string[], env: NodeJS.ProcessEnv = {}): Config {
  const result = parseConfig(argv, env);
  assert.equal(result.kind, 'config', result.kind === 'invalid' ? result.problems.join('; ') : undefined);
  return (result as Extract<ConfigResult, { kind: 'config' }>).config;
}

function problems(argv: string[], env: NodeJS.ProcessEnv = {}): string[] {
  const result = parseConfig(argv, env);
  assert.equal(result.kind, 'invalid');
  return (result as Extract<ConfigResult, { kind: 'invalid' }>).problems;
}

describe('parseConfig: defaults', () => {
  it('gives every default with no flags and no environment', () => {
    const c = config([]);
    assert.equal(c.httpPort, 80);
    assert.deepEqual(c.adminAddr, { host: '127.0.0.1', port: 8081 });
    assert.deepEqual(c.dockerHost, { url: 'unix:///var/run/docker.sock', address: { kind: 'unix', socketPath: '/var/run/docker.sock' } });
    assert.equal(c.domain, null);
    assert.equal(c.labelPrefix, 'berth');
    assert.equal(c.exposedByDefault, true);
    assert.equal(c.network, null);
    assert.deepEqual(c.trustedProxies.ranges, []);
    assert.equal(c.trustedProxies.matches('127.0.0.1'), false);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.resyncInterval, 30_000);
    assert.equal(c.upstreamTimeout, 60_000);
    assert.equal(c.headerTimeout, 15_000);
    assert.equal(c.idleTimeout, 60_000);
    assert.equal(c.shutdownTimeout, 10_000);
  });

  it('freezes the config', () => {
    const c = config([]);
    assert.ok(Object.isFrozen(c));
  });
});

describe('parseConfig: flags', () => {
  it('reads --x=y and --x y forms alike', () => {
    const a = config(['--http-port=8080', '--domain=example.test', '--resync-interval=5s']);
    const b = config(['--http-port', '8080', '--domain', 'example.test', '--resync-interval', '5s']);
    assert.equal(a.httpPort, 8080);
    assert.equal(a.domain, 'example.test');
    assert.equal(a.resyncInterval, 5000);
    const { trustedProxies: ta, ...restA } = a;
    const { trustedProxies: tb, ...restB } = b;
    assert.deepEqual(restB, restA);
    assert.deepEqual(tb.ranges, ta.ranges);
  });

  it('reads a value that contains "="', () => {
    assert.equal(config(['--network=a=b']).network, 'a=b');
  });

  it('reads durations in ms, s, m and h and plain milliseconds', () => {
    assert.equal(config(['--upstream-timeout=500ms']).upstreamTimeout, 500);
    assert.equal(config(['--upstream-timeout=2m']).upstreamTimeout, 120_000);
    assert.equal(config(['--upstream-timeout=1h']).upstreamTimeout, 3_600_000);
    assert.equal(config(['--upstream-timeout=250']).upstreamTimeout, 250);
  });

  it('reads an admin address with an IPv6 host', () => {
    assert.deepEqual(config(['--admin-addr=[::1]:9000']).adminAddr, { host: '::1', port: 9000 });
  });

  it('normalises the domain', () => {
    assert.equal(config(['--domain=Example.TEST.']).domain, 'example.test');
  });

  it('reads trusted proxies as ranges', () => {
    const c = config(['--trusted-proxies', '10.0.0.0/8,192.168.1.1']);
    assert.deepEqual(c.trustedProxies.ranges, ['10.0.0.0/8', '192.168.1.1']);
    assert.equal(c.trustedProxies.matches('10.2.3.4'), true);
    assert.equal(c.trustedProxies.matches('192.168.1.2'), false);
  });

  it('reads a bare boolean flag as true', () => {
    assert.equal(config(['--exposed-by-default'], { BERTH_EXPOSED_BY_DEFAULT: 'false' }).exposedByDefault, true);
  });

  it('reads a bare boolean flag followed by another flag as true', () => {
    const c = config(['--exposed-by-default', '--domain', 'example.test']);
    assert.equal(c.exposedByDefault, true);
    assert.equal(c.domain, 'example.test');
  });

  it('reads --no-exposed-by-default as false', () => {
    assert.equal(config(['--no-exposed-by-default']).exposedByDefault, false);
  });

  it('reads a boolean flag with a value in both forms', () => {
    assert.equal(config(['--exposed-by-default=false']).exposedByDefault, false);
    assert.equal(config(['--exposed-by-default', 'false']).exposedByDefault, false);
    assert.equal(config(['--exposed-by-default', 'TRUE']).exposedByDefault, true);
  });

  it('reads every boolean word after a bare boolean flag and in the environment', () => {
    assert.equal(config(['--exposed-by-default', 'off']).exposedByDefault, false);
    assert.equal(config(['--exposed-by-default', 'no', '--domain', 'example.test']).domain, 'example.test');
    assert.equal(config([], { BERTH_ACCESS_LOG: 'Off' }).accessLog, false);
    assert.equal(config([], { BERTH_ACCESS_LOG: 'on' }).accessLog, true);
    assert.match(problems([], { BERTH_ACCESS_LOG: 'maybe' })[0]!, /"maybe" is not a boolean \(true\/false, yes\/no, on\/off or 1\/0\)/);
  });

  it('answers --version before reading any other setting', () => {
    assert.equal(parseConfig(['--http-port', 'nope', '--version'], {}).kind, 'version');
  });

  it('lets the last of repeated flags win', () => {
    assert.equal(config(['--http-port=1', '--http-port=2']).httpPort, 2);
  });
});

describe('parseConfig: environment', () => {
  it('reads BERTH_* environment variables', () => {
    const c = config([], {
      BERTH_HTTP_PORT: '8000',
      BERTH_DOMAIN: 'local.test',
      BERTH_LABEL_PREFIX: 'edge',
      BERTH_EXPOSED_BY_DEFAULT: 'false',
      BERTH_NETWORK: 'proxy',
      BERTH_LOG_LEVEL: 'debug',
      BERTH_ADMIN_ADDR: '0.0.0.0:9999',
      BERTH_ADMIN_TOKEN: 'secret',
      BERTH_TRUSTED_PROXIES: '172.16.0.0/12',
    });
    assert.equal(c.adminToken, 'secret');
    assert.equal(c.httpPort, 8000);
    assert.equal(c.domain, 'local.test');
    assert.equal(c.labelPrefix, 'edge');
    assert.equal(c.exposedByDefault, false);
    assert.equal(c.network, 'proxy');
    assert.equal(c.logLevel, 'debug');
    assert.deepEqual(c.adminAddr, { host: '0.0.0.0', port: 9999 });
    assert.equal(c.trustedProxies.matches('172.20.0.1'), true);
  });

  it('prefers a flag over its environment variable', () => {
    assert.equal(config(['--http-port=8080'], { BERTH_HTTP_PORT: '9090' }).httpPort, 8080);
  });

  it('ignores an empty environment variable', () => {
    assert.equal(config([], { BERTH_HTTP_PORT: '' }).httpPort, 80);
  });

  it('falls back to DOCKER_HOST for the docker host', () => {
    const c = config([], { DOCKER_HOST: 'tcp://10.0.0.5:2375' });
    assert.deepEqual(c.dockerHost.address, { kind: 'tcp', host: '10.0.0.5', port: 2375, protocol: 'http' });
    assert.equal(c.dockerHost.url, 'tcp://10.0.0.5:2375');
  });

  it('prefers BERTH_DOCKER_HOST and --docker-host over DOCKER_HOST', () => {
    assert.equal(config([], { DOCKER_HOST: 'tcp://a:1', BERTH_DOCKER_HOST: 'tcp://b:2' }).dockerHost.url, 'tcp://b:2');
    assert.equal(config(['--docker-host=unix:///x.sock'], { DOCKER_HOST: 'tcp://a:1', BERTH_DOCKER_HOST: 'tcp://b:2' }).dockerHost.url, 'unix:///x.sock');
  });

  it('uses the default socket when DOCKER_HOST is empty', () => {
    assert.equal(config([], { DOCKER_HOST: '' }).dockerHost.url, 'unix:///var/run/docker.sock');
  });

  it('names every setting\'s environment variable BERTH_ plus the flag in upper snake case', () => {
    assert.equal(envName('http-port'), 'BERTH_HTTP_PORT');
    assert.equal(envName('exposed-by-default'), 'BERTH_EXPOSED_BY_DEFAULT');
  });
});

describe('parseConfig: invalid values', () => {
  it('reports every invalid value together', () => {
    const found = problems(['--http-port=abc', '--log-level=loud', '--domain=bad_domain!', '--bogus', '--admin-addr=nowhere'], {
      BERTH_RESYNC_INTERVAL: 'soon',
      BERTH_TRUSTED_PROXIES: '10.0.0.0/33',
    });
    assert.equal(found.length, 7);
  });

  for (const [flag, value] of [
    ['http-port', '65536'],
    ['http-port', '-1'],
    ['admin-addr', '127.0.0.1'],
    ['admin-addr', '127.0.0.1:70000'],
    ['docker-host', 'ssh://host'],
    ['domain', 'a..b'],
    ['label-prefix', 'berth.'],
    ['label-prefix', 'has space'],
    ['exposed-by-default', 'maybe'],
    ['network', '  '],
    ['trusted-proxies', 'not-an-ip'],
    ['log-level', 'verbose'],
    ['resync-interval', '5 minutes'],
    ['upstream-timeout', '-1s'],
  ] as const) {
    it(`rejects --${flag}=${JSON.stringify(value)}`, () => {
      assert.equal(problems([`--${flag}=${value}`]).length, 1);
    });
  }

  it('rejects an invalid value from the environment', () => {
    assert.equal(problems([], { BERTH_HTTP_PORT: 'eighty' }).length, 1);
  });

  it('rejects an invalid DOCKER_HOST', () => {
    assert.equal(problems([], { DOCKER_HOST: 'ssh://user@host' }).length, 1);
  });

  it('rejects an unknown flag and a positional argument', () => {
    assert.equal(problems(['--nope']).length, 1);
    assert.equal(problems(['stray']).length, 1);
    assert.equal(problems(['-p', '80']).length, 2);
  });

  it('rejects a flag with no value at the end', () => {
    assert.equal(problems(['--http-port']).length, 1);
  });

  it('rejects --no- on a setting that is not a boolean, and --no- with a value', () => {
    assert.equal(problems(['--no-http-port']).length, 1);
    assert.equal(problems(['--no-exposed-by-default=true']).length, 1);
  });
});

describe('parseConfig: --constraint', () => {
  it('watches every container when no constraint is given', () => {
    assert.deepEqual(config([]).constraint, []);
  });

  it('takes the flag more than once, each a label or a label with a value, all of them holding', () => {
    const c = config(['--constraint', 'label=com.example.stack=prod', '--constraint=label=com.example.managed']);
    assert.deepEqual(c.constraint, [
      { label: 'com.example.stack', value: 'prod' },
      { label: 'com.example.managed', value: null },
    ]);
  });

  it('takes several constraints from the environment, separated by semicolons', () => {
    const c = config([], { BERTH_CONSTRAINT: 'label=com.example.stack=prod; label=com.example.managed' });
    assert.deepEqual(c.constraint, [
      { label: 'com.example.stack', value: 'prod' },
      { label: 'com.example.managed', value: null },
    ]);
  });

  it('keeps an equals sign inside the value and an empty value as given', () => {
    assert.deepEqual(config(['--constraint', 'label=a=b=c', '--constraint', 'label=empty=']).constraint, [
      { label: 'a', value: 'b=c' },
      { label: 'empty', value: '' },
    ]);
  });

  it('rejects a constraint that is not about a label, naming each bad one', () => {
    const [problem] = problems(['--constraint', 'name=web', '--constraint', 'label==x']);
    assert.match(problem!, /--constraint \(BERTH_CONSTRAINT\)/);
    assert.match(problem!, /"name=web"/);
    assert.match(problem!, /"label==x"/);
  });
});

describe('parseConfig: help', () => {
  it('returns help for --help and -h, whatever else is given', () => {
    assert.deepEqual(parseConfig(['--help'], {}), { kind: 'help' });
    assert.deepEqual(parseConfig(['-h'], {}), { kind: 'help' });
    assert.deepEqual(parseConfig(['--http-port=abc', '--help'], {}), { kind: 'help' });
  });

  it('lists every flag with its environment variable', () => {
    const text = helpText();
    for (const s of Object.values(settings)) {
      assert.ok(text.includes(`--${s.flag}`), s.flag);
      assert.ok(text.includes(envName(s.flag)), envName(s.flag));
    }
  });

  describe('settings that only conflict together', () => {
    it('refuses --no-docker without a routes file', () => {
      const result = parseConfig(['--no-docker'], {});
      assert.equal(result.kind, 'invalid');
      assert.ok(result.kind === 'invalid' && result.problems.some((p) => p.includes('--routes-file')));
      assert.equal(parseConfig(['--no-docker', '--routes-file', 'r.yml'], {}).kind, 'config');
    });

    it('refuses an admin listener off loopback without a token', () => {
      const result = parseConfig(['--admin-addr', '0.0.0.0:8081'], {});
      assert.ok(result.kind === 'invalid' && result.problems.some((p) => p.includes('BERTH_ADMIN_TOKEN')));
      assert.equal(parseConfig(['--admin-addr', '0.0.0.0:8081'], { BERTH_ADMIN_TOKEN: 't' }).kind, 'config');
      assert.equal(parseConfig(['--admin-addr', '[::1]:8081'], {}).kind, 'config');
    });

    it('reads --workers and the access log settings', () => {
      const c = config(['--workers', '2', '--access-log=false', '--access-log-sample', '0.25'], {});
      assert.deepEqual([c.workers, c.accessLog, c.accessLogSample], [2, false, 0.25]);
      assert.equal(parseConfig(['--workers', '0'], {}).kind, 'invalid');
      assert.equal(parseConfig(['--access-log-sample', '1.5'], {}).kind, 'invalid');
    });
  });
});

describe('parseConfig: --acme-storage', () => {
  it('takes a folder or a Redis URL with a host and an optional database', () => {
    assert.equal(config(['--acme-storage', '/data']).acmeStorage, '/data');
    assert.equal(config(['--acme-storage', 'redis://127.0.0.1:6379']).acmeStorage, 'redis://127.0.0.1:6379');
    assert.equal(config([], { BERTH_ACME_STORAGE: 'redis://berth:secret@redis.internal:6380/2' }).acmeStorage, 'redis://berth:secret@redis.internal:6380/2');
    assert.equal(config(['--acme-storage', 'rediss://redis.internal/']).acmeStorage, 'rediss://redis.internal/');
  });

  it('refuses a Redis URL without a host or with a path that is no database number', () => {
    assert.match(problems(['--acme-storage', 'redis://:6379'])[0]!, /is not (a URL|redis:\/\/\[user:pass@\]host:port\[\/db\])/);
    assert.match(problems(['--acme-storage', 'redis://127.0.0.1:6379/berth'])[0]!, /is not redis:\/\/\[user:pass@\]host:port\[\/db\]/);
  });

  it('never repeats a password in the problem it reports for a bad store address', () => {
    for (const args of [['--acme-storage', 'redis://berth:hunter2@127.0.0.1:6379/berth'], ['--redis', 'redis://berth:hunter2@127.0.0.1:6379?x=1'], ['--etcd', 'http://root:hunter2@127.0.0.1:2379']]) {
      const [problem] = problems(args);
      assert.ok(problem, `${args[0]} is refused`);
      assert.doesNotMatch(problem, /hunter2/);
      assert.match(problem, /\*\*\*/);
    }
  });
});
