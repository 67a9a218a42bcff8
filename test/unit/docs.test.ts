// The README is the user's reference: every setting and every code must be in it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { envName, settings } from '../../src/config/settings.js';
import { Codes } from '../../src/errors.js';
import { repoRoot } from '../support/repo.js';

const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8');

/** The rows of the Markdown table under a heading, as arrays of cells. */
function tableUnder(heading: string): string[][] {
  const section = readme.split(/^## /m).find((part) => part.startsWith(heading + '\n'));
  assert.ok(section, `a "## ${heading}" section`);
  return section
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[-| ]+\|$/.test(line))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
}

describe('README', () => {
  it('lists every setting with its flag, environment variable and default', () => {
    const rows = tableUnder('Settings');
    for (const s of Object.values(settings)) {
      const row = rows.find((cells) => cells[0] === `\`--${s.flag}\``);
      assert.ok(row, `--${s.flag} is in the settings table`);
      assert.equal(row[1], `\`${envName(s.flag)}\``, `--${s.flag}'s environment variable`);
      const fallback = s.default({});
      if (fallback !== null && fallback !== '') assert.ok(row[2]!.includes(`\`${fallback}\``), `--${s.flag}'s default ${fallback} in "${row[2]}"`);
    }
  });

  const documentedCodes = () => new Set(tableUnder('Logs and codes').flatMap((cells) => [...(cells[0] ?? '').matchAll(/`(BERTH_[EW]_[A-Z_]+)`/g)].map((match) => match[1]!)));

  it('lists every code in the codes table, spelled out', () => {
    const documented = documentedCodes();
    const missing = Object.values(Codes).filter((code) => !documented.has(code));
    assert.deepEqual(missing, []);
  });

  it('documents no code that berth does not have', () => {
    const known = new Set<string>(Object.values(Codes));
    assert.deepEqual([...documentedCodes()].filter((code) => !known.has(code)), []);
  });
});
