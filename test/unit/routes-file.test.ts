import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { Codes } from '../../src/errors.js';
import { parseRoutesFile } from '../../src/file/parse.js';
import { RouteStore } from '../../src/routes/store.js';
import type { RouteSpec } from '../../src/routes/types.js';
import { fixturePath } from '../support/repo.js';

const fixture = (name: string) => readFileSync(fixturePath(`routes/${name}`), 'utf8');
// What the provider passes: a file named in a route, taken from the routes file's folder.
const readBeside = (path: string) => readFileSync(resolve(dirname(fixturePath('routes/tls.yml')), path), 'utf8');
const CA = readFileSync(fixturePath('tls/internal-ca.pem'), 'utf8');

/** A compact, comparable view of what a route does. */
function summary(spec: RouteSpec): string {
  const where = `${spec.host ?? '*'}${spec.path}`;
  if (spec.redirect) return `${where} -> ${spec.redirect.code} ${spec.redirect.location}${spec.redirect.stripPrefix ? ' (strip)' : ''}`;
  const e = spec.endpoint;
  const flags = [e.stripPrefix && 'strip', e.upstreamHost && 'upstream-host', e.verifyTls && 'verify', e.ca === CA && 'ca'].filter(Boolean).join(',');
  return `${where} -> ${e.scheme}://${e.address}:${e.port}${e.basePath} [${flags}] @${e.origin}`;
}

describe('parseRoutesFile', () => {
  it('reads the glue example: outside sites, redirects, round robin, wildcards', () => {
    const reading = parseRoutesFile(fixture('glue.yml'), 'glue.yml');
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(reading.specs.map(summary), [
      '*/google -> https://www.google.com:443 [strip,upstream-host,verify] @glue.yml:3',
      'old.example.test/ -> 301 https://new.example.test',
      'moved.example.test/docs -> 307 https://docs.example.test/v2 (strip)',
      'legacy.example.test/ -> http://127.0.0.1:9001 [verify] @glue.yml:14',
      'legacy.example.test/ -> http://127.0.0.1:9002 [verify] @glue.yml:14',
      '*.apps.example.test/api -> http://::1:8080/base [verify] @glue.yml:16',
    ]);
  });

  it('reads the same routes from JSON', () => {
    const yaml = parseRoutesFile(fixture('glue.yml'), 'routes');
    const json = parseRoutesFile(fixture('glue.json'), 'routes');
    assert.deepEqual(json.problems, []);
    const withoutOrigin = (specs: readonly RouteSpec[]) => specs.map(summary).map((line) => line.replace(/ @routes:\d+$/, ''));
    assert.deepEqual(withoutOrigin(json.specs), withoutOrigin(yaml.specs));
  });

  it('reports every problem of a broken file at once, with codes and lines, and yields no routes', () => {
    const reading = parseRoutesFile(fixture('broken.yml'), 'broken.yml');
    assert.deepEqual(reading.specs, []);
    const found = reading.problems.map((p) => [p.line, p.code]).sort((a, b) => Number(a[0]) - Number(b[0]) || String(a[1]).localeCompare(String(b[1])));
    assert.deepEqual(found, [
      [2, Codes.routesHost],
      [5, Codes.routesPath],
      [6, Codes.routesUrl],
      [7, Codes.routesKey],
      [8, Codes.routesTarget],
      [9, Codes.routesTarget],
      [13, Codes.routesUrl],
      [14, Codes.routesRedirectCode],
      [16, Codes.routesTarget],
      [17, Codes.routesType],
      [20, Codes.routesDuplicate],
      [22, Codes.routesKey],
    ]);
    assert.ok(reading.problems.every((p) => typeof p.column === 'number' && p.column >= 1));
  });

  it('reports a syntax error with its position', () => {
    const reading = parseRoutesFile('routes:\n  - host: a.test\n    to: [http://x\n', 'r.yml');
    assert.equal(reading.problems[0]?.code, Codes.routesSyntax);
    assert.ok((reading.problems[0]?.line ?? 0) >= 3);
  });

  it('treats a duplicate key as a syntax error rather than keeping either value', () => {
    const reading = parseRoutesFile('routes:\n  - host: a.test\n    host: b.test\n    to: http://x\n', 'r.yml');
    assert.deepEqual(reading.problems.map((p) => [p.code, p.line]), [[Codes.routesSyntax, 3]]);
  });

  it('accepts an empty file and an empty routes list as no routes', () => {
    for (const text of ['', '# nothing yet\n', 'routes:\n', 'routes: []\n']) {
      assert.deepEqual(parseRoutesFile(text, 'r.yml'), { specs: [], problems: [] }, JSON.stringify(text));
    }
  });

  it('rejects a file that is not a mapping of routes', () => {
    assert.equal(parseRoutesFile('- host: a.test\n', 'r.yml').problems[0]?.code, Codes.routesType);
    assert.equal(parseRoutesFile('routes: yes\n', 'r.yml').problems[0]?.code, Codes.routesType);
    assert.equal(parseRoutesFile('routes:\n  - just a string\n', 'r.yml').problems[0]?.code, Codes.routesType);
  });

  it('reads tls-verify and a CA file for https upstreams, the CA only on https targets', () => {
    const reading = parseRoutesFile(fixture('tls.yml'), 'tls.yml', readBeside);
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(reading.specs.map(summary), [
      'internal.example.test/ -> https://10.0.0.7:8443 [verify,ca] @tls.yml:3',
      'lab.example.test/ -> https://10.0.0.8:443 [] @tls.yml:6',
      'mixed.example.test/ -> https://10.0.0.9:443 [verify,ca] @tls.yml:9',
      'mixed.example.test/ -> http://10.0.0.10:80 [verify] @tls.yml:9',
      'spelled.example.test/ -> https://10.0.0.11:443 [] @tls.yml:12',
    ]);
  });

  it('reports an unreadable or non-PEM CA, a CA beside tls-verify false or without https, and TLS keys on redirects', () => {
    const reading = parseRoutesFile(fixture('tls-broken.yml'), 'tls-broken.yml', readBeside);
    assert.deepEqual(reading.specs, []);
    assert.deepEqual(reading.problems.map((p) => [p.line, p.code]), [
      [4, Codes.routesCa],
      [7, Codes.routesCa],
      [11, Codes.routesTls],
      [14, Codes.routesTls],
      [17, Codes.routesType],
      [20, Codes.routesKey],
    ]);
    assert.match(reading.problems[0]!.message, /no-such-ca\.pem.*ENOENT/);
    assert.match(reading.problems[0]!.fix ?? '', /routes file's folder/);
  });

  it('reads quoted boolean words as settings and labels do, and names them when one is wrong', () => {
    const on = parseRoutesFile('routes:\n  - to: http://x\n    strip-prefix: "Yes"\n', 'r.yml');
    assert.equal(on.specs[0]?.endpoint?.stripPrefix, true);
    const bad = parseRoutesFile('routes:\n  - to: http://x\n    strip-prefix: "maybe"\n', 'r.yml');
    assert.match(bad.problems[0]?.message ?? '', /true\/false, yes\/no, on\/off or 1\/0/);
  });

  it('rejects credentials in a URL and redirect options on a forwarding route', () => {
    const reading = parseRoutesFile('routes:\n  - to: http://user:secret@127.0.0.1/\n  - host: a.test\n    to: http://x\n    redirect-code: 302\n', 'r.yml');
    assert.deepEqual(reading.problems.map((p) => [p.code, p.line]), [[Codes.routesUrl, 2], [Codes.routesKey, 5]]);
  });
});

describe('file routes beside Docker routes', () => {
  it('lets the file win on the same host and path, with a conflict naming both', () => {
    const store = new RouteStore(['file', 'docker']);
    const container = { key: 'c1/default', scheme: 'http' as const, address: '172.17.0.2', port: 80, ready: true, stripPrefix: false, container: { id: 'c1', name: 'web-1' } };
    store.update('docker', [{ host: 'shop.test', path: '/', source: 'docker', endpoint: container }, { host: 'other.test', path: '/', source: 'docker', endpoint: container }]);
    const file = parseRoutesFile('routes:\n  - host: shop.test\n    to: http://127.0.0.1:9001\n', 'routes.yml');
    const change = store.update('file', file.specs);
    assert.equal(store.current.match('shop.test', '/')?.endpoints[0]?.origin, 'routes.yml:2');
    assert.equal(store.current.match('other.test', '/')?.endpoints[0]?.container?.name, 'web-1');
    assert.equal(change?.conflicts.length, 1);
    assert.equal(change?.conflicts[0]?.code, Codes.routeConflict);
    assert.match(change?.conflicts[0]?.message ?? '', /routes\.yml:2.*web-1|web-1.*routes\.yml:2/);
  });
});

describe('parseRoutesFile: allow-encoded', () => {
  it('reads one word or a list onto every endpoint of the route', () => {
    const reading = parseRoutesFile('routes:\n  - host: a.test\n    to: [http://x, http://y]\n    allow-encoded: slash\n  - host: b.test\n    to: http://z\n    allow-encoded: [Slash, nul]\n', 'r.yml');
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(reading.specs.map((spec) => spec.endpoint?.allowEncoded), [['slash'], ['slash'], ['slash', 'nul']]);
  });

  it('leaves routes without the key to the global setting', () => {
    const reading = parseRoutesFile('routes:\n  - host: a.test\n    to: http://x\n', 'r.yml');
    assert.equal(reading.specs[0]?.endpoint?.allowEncoded, undefined);
  });

  it('refuses a word it does not know, with its code and line', () => {
    const reading = parseRoutesFile('routes:\n  - host: a.test\n    to: http://x\n    allow-encoded: [slash, percent]\n', 'r.yml');
    assert.deepEqual(reading.problems.map((p) => [p.code, p.line]), [[Codes.routesEncoded, 4]]);
    assert.deepEqual(reading.specs, []);
  });

  it('refuses it on a redirect', () => {
    const reading = parseRoutesFile('routes:\n  - host: a.test\n    redirect: https://b.test\n    allow-encoded: slash\n', 'r.yml');
    assert.deepEqual(reading.problems.map((p) => p.code), [Codes.routesKey]);
  });
});
