// The one set of boolean spellings, for settings, labels and the routes file alike.

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

/** The words berth reads as booleans, for messages. */
export const BOOLEAN_WORDS = 'true/false, yes/no, on/off or 1/0';

/** `true`, `yes`, `on`, `1` -> true; `false`, `no`, `off`, `0` -> false (any case, spaces around); else undefined. */
export function parseBooleanWord(raw: string): boolean | undefined {
  const word = raw.trim().toLowerCase();
  return TRUE.has(word) ? true : FALSE.has(word) ? false : undefined;
}
