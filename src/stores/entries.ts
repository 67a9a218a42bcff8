// What a store holds, key by key: each key's raw value and what it reads as. A key is parsed
// only when its raw value changed, so one changed entry among thousands costs one parse.
import type { Problem, RouteSpec } from '../routes/types.js';
import { canonicalJson } from '../util/digest.js';

/** One key's routes, or its problems (each with the key as its item): a bad key hurts no other. */
export interface EntryReading {
  readonly specs: readonly RouteSpec[];
  readonly problems: readonly Problem[];
}

/** Reads one key's raw value; pure. */
export type ReadEntry = (key: string, raw: string) => EntryReading;

interface Kept {
  readonly raw: string;
  readonly reading: EntryReading;
}

export class StoreEntries {
  private readonly kept = new Map<string, Kept>();
  /** The keys in order, kept sorted as keys come and go: sorting ten thousand on each change costs more. */
  private readonly order: string[] = [];
  private specList: readonly RouteSpec[] | null = [];
  private version = 0;
  private problemList: readonly Problem[] | null = [];

  constructor(private readonly read: ReadEntry) {}

  get size(): number {
    return this.kept.size;
  }

  /** Every key's specs, in key order so a re-read in another order builds the same table. */
  get specs(): readonly RouteSpec[] {
    this.specList ??= this.sortedValues().flatMap((kept) => kept.reading.specs);
    return this.specList;
  }

  get problems(): readonly Problem[] {
    this.problemList ??= this.sortedValues().flatMap((kept) => kept.reading.problems);
    return this.problemList;
  }

  /** Grows whenever the routes change (not when only problems do): the table is rebuilt only then. */
  get routesVersion(): number {
    return this.version;
  }

  /** The reading of a key, if the store has it. */
  get(key: string): EntryReading | undefined {
    return this.kept.get(key)?.reading;
  }

  /** Sets one key; returns its new reading, or null when its raw value is what it was. */
  put(key: string, raw: string): EntryReading | null {
    if (this.kept.get(key)?.raw === raw) return null;
    const before = this.kept.get(key);
    if (!before) this.order.splice(insertionPoint(this.order, key), 0, key);
    const read = this.read(key, raw);
    const reading = read.problems.length === 0 ? read : { specs: read.specs, problems: read.problems.map((problem) => ({ ...problem, item: key })) };
    this.kept.set(key, { raw, reading });
    this.changed(!sameSpecs(before?.reading.specs ?? [], reading.specs));
    return reading;
  }

  /** Removes one key; false when it was not there. */
  remove(key: string): boolean {
    const before = this.kept.get(key);
    if (!before) return false;
    this.kept.delete(key);
    this.order.splice(insertionPoint(this.order, key), 1);
    this.changed(before.reading.specs.length > 0);
    return true;
  }

  /** Everything the store holds now (a full re-read): keys not in it are removed. Returns the keys that changed. */
  replace(all: ReadonlyMap<string, string>): string[] {
    const changed: string[] = [];
    for (const key of [...this.kept.keys()]) if (!all.has(key) && this.remove(key)) changed.push(key);
    for (const [key, raw] of all) if (this.put(key, raw)) changed.push(key);
    return changed;
  }

  private changed(routes: boolean): void {
    this.problemList = null;
    if (!routes) return;
    this.specList = null;
    this.version++;
  }

  private sortedValues(): Kept[] {
    return this.order.map((key) => this.kept.get(key)!);
  }
}

function sameSpecs(a: readonly RouteSpec[], b: readonly RouteSpec[]): boolean {
  return a.length === b.length && a.every((spec, i) => canonicalJson(spec) === canonicalJson(b[i]));
}

/** Where `key` stands (or would stand) in the sorted `keys`. */
function insertionPoint(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (keys[middle]! < key) low = middle + 1;
    else high = middle;
  }
  return low;
}
