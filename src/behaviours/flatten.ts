// A routes-file mapping (as plain data) -> the flat dotted keys labels use: nested keys joined with
// dots, so `headers: {request: {X-Foo: bar}}` is `headers.request.X-Foo=bar`. A key with both a
// value and sub-keys is written dotted in the file (`rate-limit: 10/s` beside `rate-limit.burst: 20`),
// which flattens the same. Lists become comma-separated text, as a label would give them.
import { Codes } from '../errors.js';
import type { Problem } from '../routes/types.js';

export interface FlatKeys {
  readonly keys: Map<string, string>;
  readonly problems: readonly Problem[];
}

/** `value` is what YAML gave for one route's behaviour keys; `prefix` is prepended to every key. */
export function flattenKeys(value: unknown, prefix = ''): FlatKeys {
  const keys = new Map<string, string>();
  const problems: Problem[] = [];
  const visit = (node: unknown, key: string) => {
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
      for (const [name, child] of Object.entries(node)) visit(child, key === '' ? name : `${key}.${name}`);
      return;
    }
    const items = Array.isArray(node) ? node : [node];
    if (items.some((item) => item !== null && typeof item === 'object')) {
      problems.push({ code: Codes.behaviourKey, label: key, message: `${key} holds a mapping or list where a value or a list of values goes`, fix: 'give a value, or a list of values' });
      return;
    }
    if (keys.has(key)) {
      problems.push({ code: Codes.behaviourKey, label: key, message: `${key} is given twice (nested and dotted)`, fix: 'give each key once' });
      return;
    }
    keys.set(key, items.map((item) => (item === null || item === undefined ? '' : String(item))).join(','));
  };
  visit(value, prefix);
  return { keys, problems };
}
