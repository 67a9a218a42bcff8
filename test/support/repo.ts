import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The berth checkout this file belongs to, whether it runs from test/ or from dist/test/. */
export function repoRoot(): string {
  root ??= findRoot(dirname(fileURLToPath(import.meta.url)));
  return root;
}

/** Absolute path of a file under test/fixtures (fixtures are not compiled, so never under dist/). */
export function fixturePath(name: string): string {
  return join(repoRoot(), 'test', 'fixtures', name);
}

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'berth') {
      return dir;
    }
    if (dirname(dir) === dir) throw new Error(`no package.json named "berth" above ${start}`);
  }
}
