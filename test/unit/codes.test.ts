// Every code berth can log or report is in the README's codes table, where operators look it up.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Codes } from '../../src/errors.js';
import { repoRoot } from '../support/repo.js';

/** The codes a table row names: full ones, and `_SUFFIX` short forms of the row's first code. */
function documentedCodes(readme: string): Set<string> {
  const section = readme.slice(readme.indexOf('## Logs and codes'));
  const table = section.slice(0, section.indexOf('\n## ')).split('\n').filter((line) => line.startsWith('| `BERTH_'));
  const codes = new Set<string>();
  for (const row of table) {
    const first = row.split('|')[1]!;
    const tokens = [...first.matchAll(/`([A-Z_]+)`/g)].map((match) => match[1]!);
    const base = tokens[0]!;
    const stem = base.slice(0, base.lastIndexOf('_'));
    for (const token of tokens) codes.add(token.startsWith('BERTH_') ? token : stem + token);
  }
  return codes;
}

describe('codes', () => {
  it('lists every code in the README\'s codes table', () => {
    const documented = documentedCodes(readFileSync(join(repoRoot(), 'README.md'), 'utf8'));
    const missing = Object.values(Codes).filter((code) => !documented.has(code));
    assert.deepEqual(missing, []);
  });

  it('documents no code that berth does not have', () => {
    const known = new Set<string>(Object.values(Codes));
    const documented = documentedCodes(readFileSync(join(repoRoot(), 'README.md'), 'utf8'));
    assert.deepEqual([...documented].filter((code) => !known.has(code)), []);
  });
});
