// Per-route behaviours from flat dotted keys: a label's key after `berth.` (or
// `berth.route.<name>.`) and the routes file's nested keys joined with dots are the same key.
// Pure: every bad value becomes a Problem with a code and a fix; nothing throws. The result is
// plain JSON-serialisable data: it goes to workers over IPC and is digested to see changes.
import { parseAddressList } from '../config/cidr.js';
import { Codes } from '../errors.js';
import type { Problem } from '../routes/types.js';
import { BOOLEAN_WORDS, parseBooleanWord } from '../util/boolean.js';
import { plainHttpUrl } from '../util/url.js';
import { readHash } from './htpasswd.js';

export interface BasicAuthSpec {
  /** In the order given; hashes with `$$` already read as `$`. */
  readonly users: ReadonlyArray<{ readonly user: string; readonly hash: string }>;
  readonly realm: string;
  /** Pass the client's Authorization header upstream. */
  readonly forward: boolean;
}

export interface ForwardAuthSpec {
  /** The auth service: http(s) URL. */
  readonly url: string;
  /** Headers of the service's 2xx answer copied onto the request (lowercase), e.g. remote-user. */
  readonly copyHeaders: readonly string[];
}

/** A header to set, or to remove (null). */
export type HeaderEdit = readonly [name: string, value: string | null];

export interface BehaviourSpec {
  /** Set when `auth` or `allow` cannot be read: the route answers 503, never serves open. Nothing else is then set. */
  readonly failClosed?: true;
  readonly basicAuth?: BasicAuthSpec;
  readonly forwardAuth?: ForwardAuthSpec;
  /** Normalised ranges (`10.0.0.1/32`, `fd00::/8`), in the order given, without repeats. */
  readonly allow?: readonly string[];
  readonly rateLimit?: { readonly perSecond: number; readonly burst: number };
  /** Names as written (`X-Foo`), sorted case-insensitively; each name once. */
  readonly requestHeaders?: readonly HeaderEdit[];
  readonly responseHeaders?: readonly HeaderEdit[];
  readonly maxBodyBytes?: number;
  readonly compress?: boolean;
  /** Active checks: a GET of `path` on every endpoint every `intervalMs`; a failing endpoint leaves its pool. */
  readonly health?: HealthSpec;
  /** How the pool picks an endpoint; absent: round robin. */
  readonly lb?: Balance;
  /** Pin a client to an endpoint with the `berth_sticky` cookie. */
  readonly sticky?: true;
}

export interface HealthSpec {
  /** Origin-form path and query sent as is to the upstream (not under the route's prefix). */
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export const BALANCES = ['round-robin', 'least-conn', 'random'] as const;
export type Balance = (typeof BALANCES)[number];

export interface BehaviourReading {
  /** Null when no behaviour key was given (or none could be read and none fails closed). */
  readonly spec: BehaviourSpec | null;
  readonly problems: readonly Problem[];
  /** The route must answer 503 (`spec.failClosed` is set too). */
  readonly failClosed: boolean;
}

/** Where a key was given: a label's full name, or a position in a file. */
export type KeyPlace = string | { readonly label?: string; readonly line?: number; readonly column?: number };

/** The first segments of the keys this module reads; a key belongs to it when its first dotted segment is one of them. */
export const BEHAVIOUR_KEYS = ['auth', 'allow', 'rate-limit', 'headers', 'max-body', 'compress', 'health', 'lb', 'sticky'] as const;

/** Whether `key` (after the label prefix) is a behaviour key: `allow` is, `allow-encoded` is not. */
export function isBehaviourKey(key: string): boolean {
  const dot = key.indexOf('.');
  return (BEHAVIOUR_KEYS as readonly string[]).includes(dot === -1 ? key : key.slice(0, dot));
}

const EXACT_KEYS = ['auth.basic', 'auth.basic.realm', 'auth.basic.forward', 'auth.forward', 'auth.forward.headers', 'allow', 'rate-limit', 'rate-limit.burst', 'max-body', 'compress', 'health.path', 'health.interval', 'health.timeout', 'lb', 'sticky'] as const;
const KNOWN = `${EXACT_KEYS.join(', ')}, headers.request.<Name>, headers.response.<Name>`;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// What Node itself lets through in a header value (and so what a client may be sent).
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const MAX_HEADER_VALUE = 8192;
// Framing and hop-by-hop headers are berth's both ways (see proxy/headers.ts); so are Host and
// the headers that say who the client is, which berth sets and trusts only from --trusted-proxies.
const HOP_AND_FRAMING = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'content-length', 'transfer-encoding'];
const REQUEST_OWNED = new Set([...HOP_AND_FRAMING, 'host', 'expect', 'proxy-authorization', 'x-real-ip', 'x-request-id']);
const RESPONSE_OWNED = new Set([...HOP_AND_FRAMING, 'proxy-authenticate']);
// Printable ASCII but the quote and backslash: it goes inside a quoted WWW-Authenticate parameter.
const REALM = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,200}$/;
const USER = /^[^:\x00-\x1f\x7f]{1,255}$/;
const RATE = /^(\d{1,9})\s*\/\s*(s|m|h)$/i;
const SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };
const SIZE = /^(\d{1,15}(?:\.\d{1,6})?)\s*(b|k|kb|m|mb|g|gb)?$/i;
const DURATION = /^(\d{1,7}(?:\.\d{1,3})?)\s*(ms|s|m)$/i;
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };
// Bounds of the health check timers: a check at most every 100 ms per endpoint, at least every hour.
const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 3_600_000;
const MIN_TIMEOUT_MS = 10;
export const DEFAULT_HEALTH_INTERVAL_MS = 10_000;
export const DEFAULT_HEALTH_TIMEOUT_MS = 2_000;
// A path as it goes on a request line: no space, control character, fragment or backslash.
const HEALTH_PATH = /^\/[\x21-\x7e]{0,1023}$/;
const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };
export const HASH_FIX = 'give user:hash entries, comma separated, made with `htpasswd -nB user` (bcrypt), `openssl passwd -apr1` or `htpasswd -ns user` ({SHA}); in a compose file write each $ as $$';

/**
 * Reads the behaviour keys among `keys` (others are ignored: see isBehaviourKey). `placeOf`
 * names a key in problems: the full label, or where the routes file gives it.
 */
export function readBehaviours(keys: ReadonlyMap<string, string>, placeOf: (key: string) => KeyPlace): BehaviourReading {
  const problems: Problem[] = [];
  const given = new Map([...keys].filter(([key]) => isBehaviourKey(key)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  if (given.size === 0) return { spec: null, problems, failClosed: false };
  let closed = false;
  const problem = (key: string, code: string, message: string, fix: string) => {
    const place = placeOf(key);
    problems.push({ code, message, fix, ...(typeof place === 'string' ? { label: place } : place) });
    // Access control that cannot be read must not leave the route open.
    if (key === 'auth' || key.startsWith('auth.') || key === 'allow' || key.startsWith('allow.')) closed = true;
  };

  const requestHeaders: HeaderEdit[] = [];
  const responseHeaders: HeaderEdit[] = [];
  for (const [key, value] of given) {
    const header = /^headers\.(request|response)\.(.+)$/.exec(key);
    if (header) readHeader(key, header[1] === 'request' ? requestHeaders : responseHeaders, header[1]!, header[2]!, value, problem);
    else if (!(EXACT_KEYS as readonly string[]).includes(key)) {
      const hint = key.startsWith('headers.') ? 'use headers.request.<Name> or headers.response.<Name>' : `use one of: ${KNOWN}`;
      // A mapping where a value goes (`auth: {basic: {realm: x}}`): a key with a value and sub-keys is written dotted.
      const nested = EXACT_KEYS.find((known) => key.startsWith(known + '.') && !(EXACT_KEYS as readonly string[]).includes(key));
      problem(key, Codes.behaviourKey, `unknown key ${key}`, nested ? `${hint}; in the routes file, give ${nested} its value and write its sub-keys dotted (${nested}.<key>: ...)` : hint);
    }
  }

  const basicAuth = readBasicAuth(given, problem);
  const forwardAuth = readForwardAuth(given, problem);
  const allow = given.has('allow') ? readAllow(given.get('allow')!, problem) : undefined;
  const rateLimit = readRateLimit(given, problem);
  const maxBodyBytes = given.has('max-body') ? readSize(given.get('max-body')!, problem) : undefined;
  const compress = given.has('compress') ? readBoolean('compress', given.get('compress')!, Codes.behaviourBoolean, problem) : undefined;
  const health = readHealth(given, problem);
  const lb = given.has('lb') ? readBalance(given.get('lb')!, problem) : undefined;
  const sticky = given.has('sticky') ? readBoolean('sticky', given.get('sticky')!, Codes.behaviourBoolean, problem) : undefined;

  if (closed) return { spec: { failClosed: true }, problems, failClosed: true };
  const byName = (a: HeaderEdit, b: HeaderEdit) => (a[0].toLowerCase() < b[0].toLowerCase() ? -1 : 1);
  const spec: BehaviourSpec = {
    ...(basicAuth ? { basicAuth } : {}),
    ...(forwardAuth ? { forwardAuth } : {}),
    ...(allow ? { allow } : {}),
    ...(rateLimit ? { rateLimit } : {}),
    ...(requestHeaders.length > 0 ? { requestHeaders: requestHeaders.sort(byName) } : {}),
    ...(responseHeaders.length > 0 ? { responseHeaders: responseHeaders.sort(byName) } : {}),
    ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
    ...(compress !== undefined ? { compress } : {}),
    ...(health ? { health } : {}),
    ...(lb ? { lb } : {}),
    ...(sticky ? { sticky: true as const } : {}),
  };
  return { spec: Object.keys(spec).length > 0 ? spec : null, problems, failClosed: false };
}

type Report = (key: string, code: string, message: string, fix: string) => void;

function readBasicAuth(given: ReadonlyMap<string, string>, problem: Report): BasicAuthSpec | undefined {
  const raw = given.get('auth.basic');
  if (raw === undefined) {
    for (const key of ['auth.basic.realm', 'auth.basic.forward']) {
      if (given.has(key)) problem(key, Codes.behaviourAuth, `${key} without auth.basic`, 'list the users in auth.basic');
    }
    return undefined;
  }
  const users: Array<{ user: string; hash: string }> = [];
  let bad = false;
  for (const entry of raw.split(/[,\r\n]/).map((part) => part.trim()).filter((part) => part !== '')) {
    const colon = entry.indexOf(':');
    const user = colon === -1 ? '' : entry.slice(0, colon);
    // Never the hash in a message: problems are logged and shown by the admin API.
    if (!USER.test(user)) {
      problem('auth.basic', Codes.behaviourAuth, colon === -1 ? 'an auth.basic entry is not user:hash' : 'an auth.basic entry has an empty or unreadable user name', HASH_FIX);
      bad = true;
      continue;
    }
    const hash = readHash(entry.slice(colon + 1));
    if (hash === undefined) {
      problem('auth.basic', Codes.behaviourAuth, `the hash of user "${user}" is not bcrypt ($2y$, $2a$, $2b$), apr1 ($apr1$) or {SHA}`, HASH_FIX);
      bad = true;
    } else if (users.some((known) => known.user === user)) {
      problem('auth.basic', Codes.behaviourAuth, `user "${user}" is listed twice`, 'list each user once');
      bad = true;
    } else {
      users.push({ user, hash });
    }
  }
  if (users.length === 0 && !bad) problem('auth.basic', Codes.behaviourAuth, 'auth.basic lists no user', HASH_FIX);
  let realm = 'berth';
  if (given.has('auth.basic.realm')) {
    realm = given.get('auth.basic.realm')!.trim();
    if (!REALM.test(realm)) problem('auth.basic.realm', Codes.behaviourAuth, 'auth.basic.realm is empty, over 200 characters, or holds a quote, a backslash or a character outside printable ASCII', 'use a short plain name, e.g. Staff');
  }
  const forward = given.has('auth.basic.forward') ? readBoolean('auth.basic.forward', given.get('auth.basic.forward')!, Codes.behaviourAuth, problem) : false;
  return users.length > 0 && forward !== undefined ? { users, realm, forward } : undefined;
}

function readForwardAuth(given: ReadonlyMap<string, string>, problem: Report): ForwardAuthSpec | undefined {
  const raw = given.get('auth.forward');
  if (raw === undefined) {
    if (given.has('auth.forward.headers')) problem('auth.forward.headers', Codes.behaviourAuth, 'auth.forward.headers without auth.forward', 'give the auth service URL in auth.forward');
    return undefined;
  }
  const url = plainHttpUrl(raw);
  if (!url) {
    problem('auth.forward', Codes.behaviourAuth, `auth.forward "${raw}" is not a plain http(s) URL`, 'give the auth service URL, like http://auth:4181/verify');
    return undefined;
  }
  const copyHeaders: string[] = [];
  for (const name of (given.get('auth.forward.headers') ?? '').split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    // Not berth's own forwarding headers: copying one the service does not send would remove it.
    if (!TOKEN.test(name) || REQUEST_OWNED.has(name.toLowerCase()) || /^x-forwarded-(for|proto|host|port|prefix)$/i.test(name)) {
      problem('auth.forward.headers', Codes.behaviourAuth, `auth.forward.headers: "${name}" is not a header berth may copy onto a request`, 'list header names like Remote-User, Remote-Email');
      return undefined;
    }
    copyHeaders.push(name.toLowerCase());
  }
  return { url: url.href, copyHeaders };
}

function readAllow(raw: string, problem: Report): string[] | undefined {
  const ranges: string[] = [];
  for (const entry of raw.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const parsed = parseAddressList(entry);
    if (!parsed.ok) {
      problem('allow', Codes.behaviourAllow, `allow: "${entry}" is not an IP address or CIDR range`, 'use addresses and ranges like 10.0.0.0/8, 192.168.1.7, fd00::/8, comma separated');
      continue;
    }
    const [address = '', bits] = entry.split('/');
    const range = `${address.toLowerCase()}/${bits === undefined ? (address.includes(':') ? 128 : 32) : Number(bits)}`;
    if (!ranges.includes(range)) ranges.push(range);
  }
  if (ranges.length === 0 && !raw.split(',').some((part) => part.trim() !== '')) {
    problem('allow', Codes.behaviourAllow, 'allow lists no address', 'list the addresses and ranges that may reach the route');
  }
  return ranges.length > 0 ? ranges : undefined;
}

function readRateLimit(given: ReadonlyMap<string, string>, problem: Report): BehaviourSpec['rateLimit'] {
  const raw = given.get('rate-limit');
  if (raw === undefined) {
    if (given.has('rate-limit.burst')) problem('rate-limit.burst', Codes.behaviourRate, 'rate-limit.burst without rate-limit', 'set rate-limit, e.g. 10/s');
    return undefined;
  }
  const rate = RATE.exec(raw.trim());
  const count = rate ? Number(rate[1]) : 0;
  if (!rate || count < 1) problem('rate-limit', Codes.behaviourRate, `rate-limit "${raw}" is not N/s, N/m or N/h`, 'use requests per client address per second, minute or hour, e.g. 10/s or 300/m');
  let burst = count;
  if (given.has('rate-limit.burst')) {
    const text = given.get('rate-limit.burst')!.trim();
    burst = /^\d{1,9}$/.test(text) ? Number(text) : 0;
    if (burst < 1) problem('rate-limit.burst', Codes.behaviourRate, `rate-limit.burst "${text}" is not a whole number from 1`, 'give how many requests a quiet client may send at once, e.g. 20');
  }
  if (!rate || count < 1 || burst < 1) return undefined;
  return { perSecond: count / SECONDS[rate[2]!.toLowerCase()]!, burst };
}

function readHealth(given: ReadonlyMap<string, string>, problem: Report): HealthSpec | undefined {
  const raw = given.get('health.path');
  if (raw === undefined) {
    for (const key of ['health.interval', 'health.timeout']) {
      if (given.has(key)) problem(key, Codes.behaviourHealth, `${key} without health.path`, 'set health.path, e.g. /healthz');
    }
    return undefined;
  }
  const path = raw.trim();
  const pathOk = HEALTH_PATH.test(path) && !path.includes('#') && !path.includes('\\');
  if (!pathOk) problem('health.path', Codes.behaviourHealth, `health.path "${raw}" is not a path`, 'give the path the upstream answers health checks on, starting with /, e.g. /healthz');
  const duration = (key: string, fallback: number, min: number, max: number) => {
    const text = given.get(key);
    if (text === undefined) return fallback;
    const match = DURATION.exec(text.trim());
    const ms = match ? Math.round(Number(match[1]) * DURATION_UNITS[match[2]!.toLowerCase()]!) : NaN;
    if (ms >= min && ms <= max) return ms;
    problem(key, Codes.behaviourHealth, `${key} "${text}" is not a duration from ${min}ms to ${max / 60_000}m`, 'use ms, s or m, e.g. 500ms, 10s or 1m');
    return undefined;
  };
  const intervalMs = duration('health.interval', DEFAULT_HEALTH_INTERVAL_MS, MIN_INTERVAL_MS, MAX_INTERVAL_MS);
  const timeoutMs = duration('health.timeout', Math.min(DEFAULT_HEALTH_TIMEOUT_MS, intervalMs ?? DEFAULT_HEALTH_TIMEOUT_MS), MIN_TIMEOUT_MS, intervalMs ?? MAX_INTERVAL_MS);
  if (!pathOk || intervalMs === undefined || timeoutMs === undefined) return undefined;
  return { path, intervalMs, timeoutMs };
}

function readBalance(raw: string, problem: Report): Balance | undefined {
  const value = raw.trim().toLowerCase();
  if ((BALANCES as readonly string[]).includes(value)) return value as Balance;
  problem('lb', Codes.behaviourLb, `lb "${raw}" is not ${BALANCES.join(', ')}`, `use one of: ${BALANCES.join(', ')}`);
  return undefined;
}

function readSize(raw: string, problem: Report): number | undefined {
  const size = SIZE.exec(raw.trim());
  const bytes = size ? Math.floor(Number(size[1]) * SIZE_UNITS[(size[2] ?? 'b').toLowerCase()]!) : NaN;
  if (Number.isSafeInteger(bytes)) return bytes;
  problem('max-body', Codes.behaviourMaxBody, `max-body "${raw}" is not a size`, 'use bytes or kb, mb, gb (of 1024), e.g. 512kb or 10mb');
  return undefined;
}

function readBoolean(key: string, raw: string, code: string, problem: Report): boolean | undefined {
  const value = parseBooleanWord(raw);
  if (value === undefined) problem(key, code, `${key} "${raw}" is not a boolean (${BOOLEAN_WORDS})`, `use ${BOOLEAN_WORDS}`);
  return value;
}

function readHeader(key: string, into: HeaderEdit[], side: string, name: string, raw: string, problem: Report): void {
  const lower = name.toLowerCase();
  const owned = side === 'request' ? REQUEST_OWNED.has(lower) || lower.startsWith('x-forwarded-') : RESPONSE_OWNED.has(lower);
  const value = raw.trim();
  if (!TOKEN.test(name)) {
    problem(key, Codes.behaviourHeader, `"${name}" is not a header name`, 'use letters, digits and !#$%&\'*+-.^_`|~ only');
  } else if (owned) {
    problem(key, Codes.behaviourHeader, `berth sets ${name} itself on ${side}s`, lower.startsWith('x-forwarded-') || lower === 'x-real-ip' ? 'list the proxy in front of berth in --trusted-proxies to keep its values' : 'remove the key: framing, hop-by-hop headers and Host are berth\'s');
  } else if (into.some(([known]) => known.toLowerCase() === lower)) {
    problem(key, Codes.behaviourHeader, `headers.${side}.${name} is given twice (header names ignore case)`, 'give each header once');
  } else if (value.length > MAX_HEADER_VALUE || !FIELD_VALUE.test(value)) {
    problem(key, Codes.behaviourHeader, `the value of ${name} holds a control character or is over ${MAX_HEADER_VALUE} characters`, 'give one line of printable text');
  } else {
    into.push([name, value === '' ? null : value]);
  }
}

