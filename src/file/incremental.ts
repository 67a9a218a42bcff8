// The routes file read item by item, so that one changed route re-reads one item: the file is cut
// into its `routes` items when its layout is the plain one (a `routes:` line, then items at one
// indentation), each item is read alone and kept by its text for the next version. Anything
// else (another layout, any problem, a route that names a file) goes to parseRoutesFile as a
// whole, so what is reported and what is in force stay what reading the whole file gives.
import { parseRoutesFile, parseRoutesItem, movedRoutesItem, type ReadFile, type RoutesFileOptions, type RoutesFileReading, type RoutesItem } from './parse.js';
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

export class RoutesFileReader {
  /** The items of the last version read item by item, by their text. */
  private items = new Map<string, RoutesItem>();

  constructor(
    private readonly fileLabel: string,
    private readonly readFile: ReadFile,
    private readonly options: RoutesFileOptions,
  ) {}

  read(text: string): RoutesFileReading {
    const cut = cutRoutesItems(text);
    if (cut === null) return this.whole(text);
    const items = new Map<string, RoutesItem>();
    const seen = new Set<string>();
    const specs: RouteSpec[] = [];
    for (const { text: itemText, line } of cut) {
      let item = items.get(itemText) ?? this.items.get(itemText);
      if (item === undefined || item.readsFiles) {
        const read = parseRoutesItem(itemText, line, this.fileLabel, this.readFile, this.options);
        if (read === null) return this.whole(text);
        item = read;
      }
      item = movedRoutesItem(item, line, this.fileLabel);
      const key = `${item.host ?? '*'} ${item.path}`;
      // The whole file's reading names the duplicate and its first line.
      if (seen.has(key)) return this.whole(text);
      seen.add(key);
      items.set(itemText, item);
      for (const spec of item.specs) specs.push(spec);
    }
    this.items = items;
    return { specs, problems: [] };
  }

  private whole(text: string): RoutesFileReading {
    return parseRoutesFile(text, this.fileLabel, this.readFile, this.options);
  }
}
