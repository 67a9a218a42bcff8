import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Codes } from '../../src/errors.js';
import { parseRouteEntry } from '../../src/file/parse.js';
import { fixturePath } from '../support/repo.js';

describe('parseRouteEntry', () => {
  it('reads one JSON entry with the routes file keys, under the source it is given', () => {
    const reading = parseRouteEntry('{"host": "shop.example.test", "path": "/api", "strip-prefix": true, "to": ["http://10.0.0.5:8080", "http://10.0.0.6:8080"]}', 'redis berth:route:shop', 'redis');
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(
      reading.specs.map((spec) => [spec.source, spec.host, spec.path, spec.endpoint?.address, spec.endpoint?.port, spec.endpoint?.stripPrefix, spec.endpoint?.origin]),
      [
        ['redis', 'shop.example.test', '/api', '10.0.0.5', 8080, true, 'redis berth:route:shop'],
        ['redis', 'shop.example.test', '/api', '10.0.0.6', 8080, true, 'redis berth:route:shop'],
      ],
    );
  });

  it('reads a YAML entry with a redirect and behaviour keys', () => {
    const reading = parseRouteEntry('host: old.example.test\nredirect: https://new.example.test\nheaders:\n  response:\n    x-moved: "yes"\n', 'etcd /berth/routes/old', 'etcd');
    assert.deepEqual(reading.problems, []);
    assert.equal(reading.specs[0]?.redirect?.location, 'https://new.example.test');
    assert.ok(reading.specs[0]?.behaviours, 'the behaviour keys are read');
  });

  it('reports a bad entry with the routes file codes and yields nothing', () => {
    assert.deepEqual(parseRouteEntry('{"host": "bad host", "to": "http://10.0.0.5"}', 'k', 'redis').problems.map((p) => p.code), [Codes.routesHost]);
    assert.deepEqual(parseRouteEntry('{"host": "a.test"', 'k', 'redis').problems.map((p) => p.code), [Codes.routesSyntax]);
    assert.deepEqual(parseRouteEntry('', 'k', 'redis').problems.map((p) => p.code), [Codes.routesType]);
    assert.deepEqual(parseRouteEntry('[1, 2]', 'k', 'redis').problems.map((p) => p.code), [Codes.routesType]);
    assert.deepEqual(parseRouteEntry('{"host": "a.test", "to": "http://10.0.0.5", "colour": "red"}', 'k', 'redis').problems.map((p) => p.code), [Codes.routesKey]);
  });

  it('takes a CA as inline PEM, and refuses a path it has no folder to read from', () => {
    const pem = readFileSync(fixturePath('tls/internal-ca.pem'), 'utf8');
    const inline = parseRouteEntry(JSON.stringify({ host: 'in.example.test', to: 'https://10.0.0.7', ca: pem }), 'k', 'etcd');
    assert.deepEqual(inline.problems, []);
    assert.equal(inline.specs[0]?.endpoint?.ca?.trim(), pem.trim());
    assert.deepEqual(parseRouteEntry(JSON.stringify({ host: 'in.example.test', to: 'https://10.0.0.7', ca: 'ca.pem' }), 'k', 'etcd').problems.map((p) => p.code), [Codes.routesCa]);
  });
});
