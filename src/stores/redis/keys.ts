// Redis keys -> route specs, pure. Hipache's layout as Hipache reads it: `frontend:<host>` is a
// list whose first element names the site and the rest are backend URLs; the set `dead:<host>`
// holds indexes (from 0, among the backends) that are not ready. berth's own
// `berth:route:<name>` holds one routes-file entry.
import { Codes } from '../../errors.js';
import { endpointFor, parseRouteEntry } from '../../file/parse.js';
import { parseHostPattern } from '../../routes/host.js';
import type { Endpoint, RouteSpec } from '../../routes/types.js';
import type { EntryReading } from '../entries.js';

export const FRONTEND_PREFIX = 'frontend:';
export const DEAD_PREFIX = 'dead:';
export const ROUTE_PREFIX = 'berth:route:';
/** `PUBLISH berth:changed <anything>` makes berth read everything at once. */
export const CHANGED_CHANNEL = 'berth:changed';
/** The prefixes berth reads in full; `dead:` sets are read with their frontend. */
export const READ_PREFIXES = [FRONTEND_PREFIX, ROUTE_PREFIX] as const;

/** A key's value as the session read it, kept as JSON so an unchanged key is not parsed again. */
export type RedisValue = { readonly list: readonly string[]; readonly dead: readonly string[] } | { readonly text: string } | { readonly type: string };

/** The key whose reading a change to `key` affects (a dead set's frontend), or null when berth does not read it. */
export function watchedKeyOf(key: string): string | null {
  if (key.startsWith(DEAD_PREFIX)) return FRONTEND_PREFIX + key.slice(DEAD_PREFIX.length);
  return READ_PREFIXES.some((prefix) => key.startsWith(prefix) && key.length > prefix.length) ? key : null;
}

const STORE = 'redis';

export function readRedisKey(key: string, raw: string): EntryReading {
  const value = JSON.parse(raw) as RedisValue;
  if ('type' in value) {
    const wanted = key.startsWith(FRONTEND_PREFIX) ? 'a list' : 'a string';
    return problem(Codes.storeType, `${key} is a ${value.type}, not ${wanted}`, key.startsWith(FRONTEND_PREFIX) ? 'RPUSH it as a list: an identifier, then backend URLs' : 'SET it to one route in JSON or YAML');
  }
  if ('text' in value) return parseRouteEntry(value.text, `redis ${key}`, STORE);
  return readFrontend(key.slice(FRONTEND_PREFIX.length), value.list, value.dead);
}

/** One Hipache frontend: the list's first element is its identifier, the rest backend URLs. */
export function readFrontend(name: string, list: readonly string[], dead: readonly string[]): EntryReading {
  const key = FRONTEND_PREFIX + name;
  const host = parseHostPattern(name);
  if (host === undefined) return problem(Codes.storeKey, `${key}: "${name}" is not a hostname`, 'name it frontend:<host>, like frontend:www.example.com or frontend:*.example.com');
  const origin = `redis ${key}`;
  const deadIndexes = new Set(dead.map((member) => member.trim()));
  const specs: RouteSpec[] = [];
  const problems = [];
  for (const [index, value] of list.slice(1).entries()) {
    const endpoint = backendOf(value, `${origin}[${index}]`);
    if (!endpoint) {
      problems.push({ code: Codes.storeBackend, message: `${key} backend ${index} "${value}" is not an http:// or https:// URL with a host`, fix: 'give backends as http://host:port' });
      continue;
    }
    const notReady = deadIndexes.has(String(index)) ? { ready: false, notReadyReason: `marked dead in ${DEAD_PREFIX}${name}` } : {};
    specs.push({ host, path: '/', source: STORE, endpoint: { ...endpoint, ...notReady } });
  }
  return { specs, problems };
}

function backendOf(value: string, origin: string): Endpoint | undefined {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname || url.username || url.password || url.search || url.hash) return undefined;
  return endpointFor(url, origin, false, false, { verify: true });
}

function problem(code: string, message: string, fix: string): EntryReading {
  return { specs: [], problems: [{ code, message, fix }] };
}
