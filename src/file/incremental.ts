// The routes file read item by item, so that one changed route re-reads one item: the file is cut
// into its `routes` items when its layout is the plain one (a `routes:` line, then items at one
// indentation), each item is read alone and kept by its text for the next version. Anything
// else (another layout, any problem, a route that names a file) goes to parseRoutesFile as a
// whole, so what is reported and what is in force stay what reading the whole file gives.
import { movedRoutesItem, parseRoutesFile, parseRoutesItem, type ReadFile, type RoutesFileOptions, type RoutesFileReading, type RoutesItem } from './parse.js';
import type { RouteSpec } from '../routes/types.js';

/** One item of the list as cut from the text: its lines, and the line it starts on (1-based). */
export interface ItemText {
  readonly text: string;
  readonly line: number;
}

const HEADER = /^routes:(?: +(?:#.*)?)?\r?$/;
const BLANK = /^ *(?:#.*)?\r?$/;

/**
 * The `routes` items of a file laid out as `routes:` (comments and blank lines before it), then
 * items that all start at one indentation, every other line blank, a comment, or indented deeper.
 * Null for any other layout (the whole file is read then).
 */
export function cutRoutesItems(text: string): ItemText[] | null {
  let start = 0;
  let line = 1;
  let header = false;
  let indent = -1;
  const items: ItemText[] = [];
  let itemStart = -1;
  let itemLine = 0;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline + 1;
    const current = text.slice(start, newline === -1 ? text.length : newline);
    if (!header) {
      if (HEADER.test(current)) header = true;
      else if (!BLANK.test(current)) return null;
    } else if (indent === -1 && BLANK.test(current)) {
      // Between `routes:` and the first item.
    } else if (indent === -1) {
      const dash = /^( *)-(?: |\r?$)/.exec(current);
      if (!dash) return null;
      indent = dash[1]!.length;
      itemStart = start;
      itemLine = line;
    } else if (isItemStart(current, indent)) {
      items.push({ text: text.slice(itemStart, start), line: itemLine });
      itemStart = start;
      itemLine = line;
    } else if (!BLANK.test(current) && !isDeeper(current, indent)) {
      return null;
    }
    start = end;
    line++;
  }
  if (indent === -1) return null;
  items.push({ text: text.slice(itemStart), line: itemLine });
  return items;
}

function isItemStart(line: string, indent: number): boolean {
  for (let i = 0; i < indent; i++) if (line.charCodeAt(i) !== 32) return false;
  if (line.charCodeAt(indent) !== 45) return false;
  const after = line.charCodeAt(indent + 1);
  return after === 32 || Number.isNaN(after) || (after === 13 && line.length === indent + 2);
}

function isDeeper(line: string, indent: number): boolean {
  for (let i = 0; i <= indent; i++) if (line.charCodeAt(i) !== 32) return false;
  return true;
}

/** Items no longer in the file that may stay remembered before they are swept out. */
const STALE_ITEMS = 256;

export class RoutesFileReader {
  /** Items read alone, by their text, with the last version that had them. */
  private readonly items = new Map<string, { item: RoutesItem; version: number }>();
  private version = 0;

  constructor(
    private readonly fileLabel: string,
    private readonly readFile: ReadFile,
    private readonly options: RoutesFileOptions,
  ) {}

  read(text: string): RoutesFileReading {
    const cut = cutRoutesItems(text);
    if (cut === null) return this.whole(text);
    const version = ++this.version;
    const seen = new Set<string>();
    const specs: RouteSpec[] = [];
    for (const { text: itemText, line } of cut) {
      const known = this.items.get(itemText);
      let item = known?.item;
      // Read from a copy: a slice would keep this version's whole text alive as long as the item
      // (its key here, a host or a header value in its specs) stays.
      const own = known ? undefined : detached(itemText);
      if (item === undefined || item.readsFiles) {
        const read = parseRoutesItem(own ?? itemText, line, this.fileLabel, this.readFile, this.options);
        if (read === null) return this.whole(text);
        item = read;
      }
      if (item.firstLine !== line) item = movedRoutesItem(item, line, this.fileLabel);
      // The whole file's reading names the duplicate and its first line.
      if (seen.has(item.key)) return this.whole(text);
      seen.add(item.key);
      if (known) {
        known.item = item;
        known.version = version;
      } else {
        this.items.set(own!, { item, version });
      }
      for (const spec of item.specs) specs.push(spec);
    }
    if (this.items.size > cut.length + STALE_ITEMS) {
      for (const [itemText, known] of this.items) if (known.version !== version) this.items.delete(itemText);
    }
    return { specs, problems: [] };
  }

  private whole(text: string): RoutesFileReading {
    return parseRoutesFile(text, this.fileLabel, this.readFile, this.options);
  }
}

/** The same text in a string of its own (V8 keeps a slice's whole parent alive). */
function detached(text: string): string {
  return (' ' + text).slice(1);
}
