// A short digest of a set of lines, order-free: for "did anything change" without keeping the text.
import { createHash } from 'node:crypto';

export function digestOfLines(lines: readonly string[]): string {
  const hash = createHash('sha256');
  for (const line of [...lines].sort()) hash.update(line).update('\n');
  return hash.digest('base64');
}
