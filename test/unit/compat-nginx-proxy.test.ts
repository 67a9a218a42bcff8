import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readContainerLabels } from '../../src/docker/compat/index.js';
import { translateNginxProxy } from '../../src/docker/compat/nginx-proxy.js';
import { Codes } from '../../src/errors.js';

const keys = (env: Record<string, string>) => Object.fromEntries(translateNginxProxy(env).keys);

describe('nginx-proxy environment as berth keys', () => {
  const cases: Array<[string, Record<string, string>, Record<string, string>]> = [
    ['one host and a port', { VIRTUAL_HOST: 'app.example.com', VIRTUAL_PORT: '3000' }, { host: 'app.example.com', port: '3000' }],
    ['several hosts and a wildcard', { VIRTUAL_HOST: 'a.example.com, *.b.example.com' }, { host: 'a.example.com,*.b.example.com' }],
    ['a path whose prefix is stripped', { VIRTUAL_HOST: 'a.test', VIRTUAL_PATH: '/api', VIRTUAL_DEST: '/' }, { host: 'a.test', path: '/api', 'strip-prefix': 'true' }],
    ['https to the container', { VIRTUAL_HOST: 'a.test', VIRTUAL_PROTO: 'https' }, { host: 'a.test', scheme: 'https' }],
    ['a certificate ordered, plain HTTP redirected', { VIRTUAL_HOST: 'a.example.com', LETSENCRYPT_HOST: 'a.example.com' }, { host: 'a.example.com', tls: 'true' }],
    ['a certificate, plain HTTP served too', { VIRTUAL_HOST: 'a.example.com', ACME_HOST: 'a.example.com', HTTPS_METHOD: 'noredirect' }, { host: 'a.example.com', tls: 'true', 'tls.redirect': 'false' }],
  ];
  for (const [name, env, expected] of cases) {
    it(`reads ${name}`, () => assert.deepEqual(keys(env), expected));
  }

  it('reads nothing from a container without VIRTUAL_HOST', () => {
    assert.equal(translateNginxProxy({ VIRTUAL_PORT: '80' }).present, false);
  });

  it('reports what it cannot express, naming the variable', () => {
    const translation = translateNginxProxy({ VIRTUAL_HOST: '~^app\\d+\\.test$,b.test', VIRTUAL_PROTO: 'uwsgi', VIRTUAL_PATH: '/x', VIRTUAL_DEST: '/y' });
    assert.deepEqual(translation.problems.map((p) => [p.code, p.label]), [
      [Codes.compatUnsupported, 'env VIRTUAL_HOST'],
      [Codes.compatUnsupported, 'env VIRTUAL_PROTO'],
      [Codes.compatUnsupported, 'env VIRTUAL_DEST'],
    ]);
    assert.equal(translation.keys.get('host'), 'b.test');
  });

  it('gives the same routes as the berth labels it stands for, and yields to berth labels', () => {
    const env = { VIRTUAL_HOST: 'a.test', VIRTUAL_PORT: '8080', VIRTUAL_PATH: '/api', VIRTUAL_DEST: '/' };
    const fromEnv = readContainerLabels({}, 'berth', ['nginx-proxy'], env);
    const native = readContainerLabels({ 'berth.host': 'a.test', 'berth.port': '8080', 'berth.path': '/api', 'berth.strip-prefix': 'true' }, 'berth', []);
    assert.deepEqual(fromEnv.routes, native.routes);
    const both = readContainerLabels({ 'berth.host': 'b.test' }, 'berth', ['nginx-proxy'], env);
    assert.deepEqual(both.routes.map((r) => r.hosts), [['b.test']]);
    assert.ok(both.problems.some((p) => p.code === Codes.compatIgnored));
  });
});
