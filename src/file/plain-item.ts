// The most common routes-file item, read without the YAML parser: `- key: value` lines of plain
// words, URLs, paths, booleans and integers. A 10,000-route file is mostly such items, and a YAML
// parse per item costs far more than the route it gives. Anything else (quotes, lists, comments
// after a value, other indentation, any word YAML could read as another type) returns null, and
// the item goes to the YAML parser: what is made here is the node YAML would make.
import { Pair, Scalar, YAMLMap } from 'yaml';

const LINE = /^( *)(- )?([a-z][a-z0-9.-]*): +([A-Za-z0-9/][A-Za-z0-9._/:-]*) *\r?$/;
const SKIPPED = /^ *(?:#.*)?\r?$/;
const WORDS: ReadonlyMap<string, boolean | null> = new Map([
  ['true', true],
  ['True', true],
  ['TRUE', true],
  ['false', false],
  ['False', false],
  ['FALSE', false],
  ['null', null],
  ['Null', null],
  ['NULL', null],
]);

/** The item's mapping, as YAML would compose it (ranges are offsets in `text`); null when it is not this plain form. */
export function plainItem(text: string): YAMLMap | null {
  const map = new YAMLMap();
  const keys = new Set<string>();
  let indent = -1;
  let offset = 0;
  while (offset < text.length) {
    const newline = text.indexOf('\n', offset);
    const end = newline === -1 ? text.length : newline;
    const line = text.slice(offset, end);
    const next = newline === -1 ? text.length : newline + 1;
    if (SKIPPED.test(line)) {
      // Blank lines and whole-line comments only after the first key, as the cutting leaves them.
      if (indent === -1) return null;
      offset = next;
      continue;
    }
    const parts = LINE.exec(line);
    if (!parts) return null;
    const [, spaces, dash, key, word] = parts as unknown as [string, string, string | undefined, string, string];
    if (indent === -1) {
      if (!dash) return null;
      indent = spaces.length + 2;
    } else if (dash || spaces.length !== indent) {
      return null;
    }
    if (keys.has(key) || WORDS.has(key)) return null;
    keys.add(key);
    const value = valueOf(word);
    if (value === undefined) return null;
    const keyStart = offset + indent;
    const valueStart = offset + line.indexOf(word, indent + key.length + 1);
    const keyNode = new Scalar(key);
    keyNode.range = [keyStart, keyStart + key.length, keyStart + key.length];
    const valueNode = new Scalar(value);
    valueNode.range = [valueStart, valueStart + word.length, end];
    map.items.push(new Pair(keyNode, valueNode));
    if (map.items.length === 1) map.range = [keyStart, text.length, text.length];
    offset = next;
  }
  return map.items.length > 0 ? map : null;
}

/** A plain word as YAML's core schema reads it; undefined for a form left to YAML. */
function valueOf(word: string): string | number | boolean | null | undefined {
  if (word.endsWith(':')) return undefined;
  const known = WORDS.get(word);
  if (known !== undefined) return known;
  const first = word.charCodeAt(0);
  if (first >= 48 && first <= 57) return /^[0-9]+$/.test(word) ? Number(word) : undefined;
  return word;
}
