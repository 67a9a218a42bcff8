import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cutRoutesItems, RoutesFileReader } from '../../src/file/incremental.js';
import { parseRoutesFile, type ReadFile } from '../../src/file/parse.js';
import { fixturePath } from '../support/repo.js';

const folder = fixturePath('routes');
const readBeside: ReadFile = (path) => readFileSync(resolve(dirname(fixturePath('routes/tls.yml')), path), 'utf8');
const OPTIONS = { tlsDefault: false };

/** What the whole file's reading gives, which the reader must give too, whatever it read before. */
function assertSameReading(reader: RoutesFileReader, text: string, label: string): void {
  assert.deepEqual(reader.read(text), parseRoutesFile(text, label, readBeside, OPTIONS), text);
}

// Layouts the cutting must either read as the whole file does or leave to the whole file.
const LAYOUTS = [
  'routes:\n  - host: a.test\n    to: http://127.0.0.1:1\n  - host: b.test\n    to: http://127.0.0.1:2\n',
  '# comment\n\nroutes:   # the list\n- host: a.test\n  to: http://127.0.0.1:1\n# between\n- host: b.test\n  to: http://127.0.0.1:2',
  'routes:\r\n  - host: a.test\r\n    to: http://127.0.0.1:1\r\n  - host: b.test\r\n    to: http://127.0.0.1:2\r\n',
  'routes:\n  -\n    host: a.test\n    to: http://127.0.0.1:1\n  - host: b.test\n    to:\n      - http://127.0.0.1:2\n      - http://127.0.0.1:3\n',
  'routes:\n  - host: a.test\n    to: &up http://127.0.0.1:1\n  - host: b.test\n    to: *up\n',
  'routes:\n  - host: a.test\n    to: [http://127.0.0.1:1,\n  - b]\n',
  'routes:\n  - host: a.test\n    to: "http://127.0.0.1:1\n  - b"\n',
  'routes:\n  - host: a.test\n    redirect: >\n      https://b.test\n  - host: c.test\n    to: http://127.0.0.1:1\n',
  'routes:\n  - host: a.test\n    to: http://127.0.0.1:1\n  - host: a.test\n    to: http://127.0.0.1:2\n',
  'routes:\n  - host: a.test\n    to: http://127.0.0.1:1\n  - host: b.test\n    tpo: http://127.0.0.1:2\n',
  'routes:\n  - host: a.test\n    to: http://127.0.0.1:1\nother: 1\n',
  'routes:\n  - host: a.test\n    to: http://127.0.0.1:1\n---\nroutes: []\n',
  'routes:\n  - host: a.test\n    host: b.test\n    to: http://127.0.0.1:1\n',
  'routes:\n  - host: a.test\n    to: http://127.0.0.1:1\n   - host: b.test\n',
  'routes:\n  - host: a.test\n    to: http://127.0.0.1:1\n - host: b.test\n   to: http://127.0.0.1:2\n',
  'routes:\n\t- host: a.test\n',
  '\uFEFFroutes:\n  - host: a.test\n    to: http://127.0.0.1:1\n',
  'routes:\n  - just a string\n',
  'routes:\n  -\n',
  'routes:\n',
  'routes: []\n',
  '',
];

describe('RoutesFileReader', () => {
  it('reads every fixture and every layout as the whole file\'s reading does', () => {
    const texts = [...readdirSync(folder).map((name) => readFileSync(`${folder}/${name}`, 'utf8')), ...LAYOUTS];
    for (const text of texts) assertSameReading(new RoutesFileReader('routes.yml', readBeside, OPTIONS), text, 'routes.yml');
  });

  it('reads each version as the whole file does after any earlier version (items kept, moved, changed, broken)', () => {
    const item = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 3 })).map(([host, port]) => `- host: h${host}.test\n  to: http://127.0.0.1:${port}\n`),
      fc.integer({ min: 0, max: 5 }).map((host) => `- host: h${host}.test\n  path: /api\n  redirect: https://r.test\n  redirect-code: 307\n`),
      fc.integer({ min: 0, max: 5 }).map((host) => `- host: h${host}.test\n  to: [http://127.0.0.1:1, https://127.0.0.1:2]\n  strip-prefix: true\n  rate-limit: 10/s\n`),
      fc.tuple(
        fc.integer({ min: 0, max: 5 }),
        fc.constantFrom('strip-prefix', 'host-header', 'path', 'tls', 'tls-verify', 'redirect-code', 'hsts'),
        fc.constantFrom('true', 'True', 'tRue', 'yes', 'no', 'null', 'NULL', '~', '1', '0307', '0x1', '1e3', 'upstream', 'client', 'a:', 'a:b', '"true"', "'x'", 'a #c', 'a#c', '/api', '/a/b', 'api', '/a b', '/', 'max-age=60', '[1]', '{a: 1}', '&x y', '*y', '!!str true', 'true  ', 'true\r'),
      ).map(([host, key, word]) => `- host: h${host}.test\n  to: http://127.0.0.1:1\n  ${key}: ${word}\n`),
      fc.constantFrom('- host: bad host\n  to: http://127.0.0.1:1\n', '- to: ftp://x\n', '- host: h8.test\n  to: http://127.0.0.1:1\n  host: h7.test\n', '- host: h8.test\n   to: http://127.0.0.1:1\n', '- host: h8.test # c\n  to: http://127.0.0.1:1\n  # c\n\n', '- true: 1\n', '- host: "unclosed\n', '# a comment\n', '\n', '- host: h9.test\n  to: http://127.0.0.1:1\n  ca: internal-ca.pem\n'),
    );
    const version = fc.tuple(fc.constantFrom(0, 2, 4), fc.array(item, { maxLength: 8 })).map(([indent, items]) => {
      const pad = ' '.repeat(indent);
      return 'routes:\n' + items.map((text) => text.split('\n').map((line) => (line === '' ? line : pad + line)).join('\n')).join('');
    });
    fc.assert(
      fc.property(fc.array(version, { minLength: 1, maxLength: 5 }), (versions) => {
        const reader = new RoutesFileReader('routes.yml', readBeside, OPTIONS);
        for (const text of versions) assertSameReading(reader, text, 'routes.yml');
      }),
      { numRuns: 300 },
    );
  });

  it('reads only the changed item again when one line of a long file changes', () => {
    const text = (port: number) => 'routes:\n' + Array.from({ length: 100 }, (_, i) => `  - host: h${i}.test\n    to: http://127.0.0.1:${i === 50 ? port : 1}\n`).join('');
    const reader = new RoutesFileReader('routes.yml', readBeside, OPTIONS);
    const first = reader.read(text(1));
    const second = reader.read(text(2));
    assert.equal(second.specs.length, 100);
    second.specs.forEach((spec, i) => (i === 50 ? assert.notEqual(spec, first.specs[i]) : assert.equal(spec, first.specs[i])));
    assert.equal(second.specs[50]?.endpoint?.port, 2);
  });
});

describe('cutRoutesItems', () => {
  it('cuts the plain layout into items with their first lines, and leaves any other to the whole file', () => {
    assert.deepEqual(cutRoutesItems('# c\nroutes:\n  - a: 1\n    b: 2\n\n  - c: 3\n'), [
      { text: '  - a: 1\n    b: 2\n\n', line: 3 },
      { text: '  - c: 3\n', line: 6 },
    ]);
    assert.equal(cutRoutesItems('routes:\n  - a: 1\nmore: 2\n'), null);
    assert.equal(cutRoutesItems('routes: []\n'), null);
  });
});
