// Parsers for setting values: each returns the value or a message saying what is wrong.
import { BOOLEAN_WORDS, parseBooleanWord } from '../util/boolean.js';
import { unbracketed } from '../util/ip.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (problem: string): Parsed<never> => ({ ok: false, problem });

export function parsePort(raw: string): Parsed<number> {
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  return port >= 0 && port <= 65535 ? ok(port) : bad(`"${raw}" is not a port number (0-65535)`);
}

export function parseBoolean(raw: string): Parsed<boolean> {
  const value = parseBooleanWord(raw);
  return value === undefined ? bad(`"${raw}" is not a boolean (${BOOLEAN_WORDS})`) : ok(value);
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `2m`, `1h`, or a plain number of milliseconds. */
export function parseDuration(raw: string): Parsed<number> {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!match) return bad(`"${raw}" is not a duration (like 500ms, 30s, 2m)`);
  return ok(Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!));
}

/** `host:port` with an IPv4, a name or a bracketed IPv6 host. */
export function parseListenAddress(raw: string): Parsed<{ host: string; port: number }> {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(raw.trim());
  if (!match) return bad(`"${raw}" is not host:port`);
  const port = parsePort(match[2]!);
  if (!port.ok) return port;
  return ok({ host: unbracketed(match[1]!), port: port.value });
}

export function parseOneOf<T extends string>(choices: readonly T[]) {
  return (raw: string): Parsed<T> => ((choices as readonly string[]).includes(raw) ? ok(raw as T) : bad(`"${raw}" is not one of ${choices.join(', ')}`));
}

export function parseCount(raw: string): Parsed<number> {
  const count = /^\d{1,3}$/.test(raw.trim()) ? Number(raw) : NaN;
  return count >= 1 && count <= 64 ? ok(count) : bad(`"${raw}" is not a whole number from 1 to 64`);
}

export function parseFraction(raw: string): Parsed<number> {
  const value = /^(0|1|0?\.\d+|1\.0*)$/.test(raw.trim()) ? Number(raw) : NaN;
  return value >= 0 && value <= 1 ? ok(value) : bad(`"${raw}" is not a number from 0 to 1`);
}

export function parseText(raw: string): Parsed<string> {
  return raw.trim() === '' ? bad('is empty') : ok(raw.trim());
}
