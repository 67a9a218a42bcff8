// The peers' configuration files live beside this code as templates with {{NAME}} placeholders.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../../test/support/repo.js';

/** Writes bench/peers/<template> into `dir` with its placeholders filled; returns the new file. */
export async function renderConfig(template: string, dir: string, values: Record<string, string | number>): Promise<string> {
  const text = await readFile(join(repoRoot(), 'bench', 'peers', template), 'utf8');
  const filled = text.replace(/\{\{([A-Z_]+)\}\}/g, (_whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${template}: no value for {{${name}}}`);
    return String(value);
  });
  const target = join(dir, template);
  await writeFile(target, filled);
  return target;
}
