// Golden cases for the behaviour keys: one YAML file per case under test/fixtures/behaviours,
// holding the keys as labels give them (`keys`, after `berth.`) and/or as a routes file nests them
// (`file`), and the spec, problems ("<code> <label>") and fail-closed flag expected of both.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { flattenKeys } from '../../src/behaviours/flatten.js';
import { isBehaviourKey, readBehaviours, type BehaviourSpec } from '../../src/behaviours/spec.js';
import type { Problem } from '../../src/routes/types.js';
import { fixturePath } from '../support/repo.js';

interface Case {
  readonly about: string;
  readonly keys?: Record<string, unknown>;
  readonly file?: unknown;
  readonly expect: { failClosed: boolean; spec: BehaviourSpec | null; problems: string[] };
}

const folder = fixturePath('behaviours');
const label = (key: string) => `berth.${key}`;
const shown = (problems: readonly Problem[]) => problems.map((problem) => `${problem.code} ${problem.label}`);

describe('behaviour keys: golden cases', () => {
  for (const file of readdirSync(folder).filter((name) => name.endsWith('.yml')).sort()) {
    const golden = parse(readFileSync(`${folder}/${file}`, 'utf8')) as Case;
    assert.ok(golden.keys !== undefined || golden.file !== undefined, `${file} gives keys or file`);
    if (golden.keys !== undefined) {
      it(`${file.replace(/\.yml$/, '')} (labels): ${golden.about}`, () => {
        const keys = new Map(Object.entries(golden.keys!).map(([key, value]) => [key, String(value)]));
        const reading = readBehaviours(keys, label);
        assert.deepEqual({ failClosed: reading.failClosed, spec: reading.spec, problems: shown(reading.problems) }, golden.expect);
        // It crosses to workers and is digested: plain JSON, unchanged by a round trip.
        assert.deepEqual(JSON.parse(JSON.stringify(reading.spec)), reading.spec);
        assert.equal(reading.failClosed, reading.spec?.failClosed === true);
        for (const problem of reading.problems) assert.ok(problem.fix, `${problem.code} has a fix`);
      });
    }
    if (golden.file !== undefined) {
      it(`${file.replace(/\.yml$/, '')} (routes file): ${golden.about}`, () => {
        const flat = flattenKeys(golden.file);
        const reading = readBehaviours(flat.keys, label);
        const problems = [...shown(flat.problems.map((problem) => ({ ...problem, label: label(problem.label!) }))), ...shown(reading.problems)];
        assert.deepEqual({ failClosed: reading.failClosed, spec: reading.spec, problems }, golden.expect);
      });
    }
  }
});

describe('isBehaviourKey', () => {
  it('owns keys by their first dotted segment', () => {
    for (const key of ['auth.basic', 'allow', 'rate-limit.burst', 'headers.request.X-A', 'max-body', 'compress', 'auth', 'auth.anything', 'health.path', 'lb', 'sticky']) assert.equal(isBehaviourKey(key), true, key);
    for (const key of ['allow-encoded', 'host', 'path', 'authx', 'route.api.allow', 'tls.redirect', 'compression', 'healthz', 'lbs']) assert.equal(isBehaviourKey(key), false, key);
  });
});
