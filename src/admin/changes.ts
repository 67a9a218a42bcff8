// The last table changes, newest first, for the dashboard.
import type { RouteStore, TableChange } from '../routes/store.js';

export interface ChangeEntry extends Omit<TableChange, 'conflicts'> {
  readonly at: string;
}

export function recordChanges(store: RouteStore, keep = 50): () => readonly ChangeEntry[] {
  const entries: ChangeEntry[] = [];
  store.onChange(({ version, added, removed, changed }) => {
    entries.unshift({ at: new Date().toISOString(), version, added, removed, changed });
    entries.length = Math.min(entries.length, keep);
  });
  return () => entries;
}
