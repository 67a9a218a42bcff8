// Keyspace notifications: the flags berth needs, added to what the server already has so other
// users of the same server keep theirs. Pure.

/**
 * K: keyspace channels; g: DEL, RENAME...; $: strings; l: lists; s: sets; h and z: hashes and
 * sorted sets (a berth key turned into one is a problem to show); x: expired; e: evicted.
 */
const NEEDED = ['K', 'g', '$', 'l', 's', 'h', 'z', 'x', 'e'] as const;
/** `A` stands for every class but key-miss and new-key ones. */
const ALL_CLASSES = new Set(['g', '$', 'l', 's', 'h', 'z', 'x', 'e', 't', 'd']);

/** The server's flags with berth's added; equal to `current` when nothing is missing. */
export function withBerthFlags(current: string): string {
  const has = new Set(current);
  const missing = NEEDED.filter((flag) => !has.has(flag) && !(has.has('A') && ALL_CLASSES.has(flag)));
  return current + missing.join('');
}

/** The channel patterns berth subscribes to in database `db`. */
export function keyspacePatterns(db: number, prefixes: readonly string[]): string[] {
  return prefixes.map((prefix) => `__keyspace@${db}__:${prefix}*`);
}

/** The key a keyspace channel speaks of, or null for another channel. */
export function keyOfChannel(db: number, channel: string): string | null {
  const prefix = `__keyspace@${db}__:`;
  return channel.startsWith(prefix) ? channel.slice(prefix.length) : null;
}
