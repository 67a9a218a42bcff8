// A route's header edits and the forwarding facts they depend on. Pure.
import type http from 'node:http';
import type { HeaderEdit } from '../behaviours/spec.js';
import { plainAddress } from '../util/ip.js';

export const NO_EDITS: readonly HeaderEdit[] = [];

/** Header lines as [name, value] pairs. */
export function pairs(lines: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < lines.length; i += 2) out.push([lines[i]!, lines[i + 1]!]);
  return out;
}

/** Header edits in order: a value sets, null removes. */
export function applyEdits(headers: http.IncomingHttpHeaders, edits: readonly HeaderEdit[]): http.IncomingHttpHeaders {
  for (const [name, value] of edits) {
    if (value === null) delete headers[name];
    else headers[name] = value;
  }
  return headers;
}

/** The address a trusted proxy put last in X-Forwarded-For: the client it saw. */
export function lastForwardedFor(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header.join(',') : header;
  const last = value?.split(',').pop()?.trim();
  return last ? plainAddress(last) : null;
}

