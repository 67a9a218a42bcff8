// The routes file (YAML, or JSON, which is YAML too) -> route specs, or every problem at once
// with its line and column. Pure: the watcher reads the file and decides what to keep.
import { ENCODED_CHARS, parseEncodedChars, type EncodedChar } from '../proxy/target.js';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { Codes } from '../errors.js';
import { parseHostPattern } from '../routes/host.js';
import { parsePathPrefix } from '../routes/path.js';
import { BEHAVIOUR_KEYS, isBehaviourKey, readBehaviours } from '../behaviours/spec.js';
import { flattenKeys } from '../behaviours/flatten.js';
import type { SourceName } from '../sources/source.js';
import { HSTS_FORM, parseHsts } from '../routes/hsts.js';
import { plainItem } from './plain-item.js';
import type { Endpoint, Problem, Redirect, RouteSpec, RouteTls } from '../routes/types.js';
import { BOOLEAN_WORDS, parseBooleanWord } from '../util/boolean.js';
import { unbracketed } from '../util/ip.js';

export interface RoutesFileReading {
  readonly specs: readonly RouteSpec[];
  /** Any problem makes the whole file invalid: the last good version stays in force. */
  readonly problems: readonly Problem[];
}

const KEYS = ['host', 'path', 'strip-prefix', 'to', 'redirect', 'redirect-code', 'host-header', 'tls-verify', 'ca', 'allow-encoded', 'tls', 'hsts'] as const;

/** Reads a file a route names (a `ca`), relative to the routes file; throws when it cannot. */
export type ReadFile = (path: string) => string;
const REDIRECT_CODES = [301, 302, 307, 308] as const;

export const SOURCE = 'file' satisfies SourceName;

export interface RoutesFileOptions {
  /** Routes without a `tls` key are HTTPS (--tls-default). */
  readonly tlsDefault: boolean;
}

export function parseRoutesFile(
  text: string,
  fileLabel: string,
  readFile: ReadFile = (path) => readFileSync(path, 'utf8'),
  options: RoutesFileOptions = { tlsDefault: false },
): RoutesFileReading {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: Problem[] = [];
  const at = (node: Node | null | undefined) => position(lines, node?.range?.[0]);

  for (const error of doc.errors) {
    problems.push({ code: Codes.routesSyntax, message: error.message.split('\n')[0]!, ...position(lines, error.pos[0]) });
  }
  if (problems.length > 0) return { specs: [], problems };

  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { specs: [], problems };
  if (!isMap(root)) return { specs: [], problems: [{ code: Codes.routesType, message: 'the file must be a mapping with a "routes" list', ...at(root) }] };

  let routes: Node | null = null;
  for (const pair of root.items as Array<Pair<Node, Node>>) {
    const key = keyOf(pair);
    if (key === 'routes') routes = pair.value ?? null;
    else problems.push({ code: Codes.routesKey, message: `unknown key "${key}" (only "routes")`, ...at(pair.key) });
  }
  if (routes === null || (isScalar(routes) && routes.value === null)) return { specs: [], problems };
  if (!isSeq(routes)) return { specs: [], problems: [...problems, { code: Codes.routesType, message: '"routes" must be a list', ...at(routes) }] };

  const specs: RouteSpec[] = [];
  const seen = new Map<string, number>();
  for (const item of routes.items as Node[]) {
    const where = at(item);
    const origin = `${fileLabel}:${where.line}`;
    const before = problems.length;
    const route = readRoute(item, origin, at, problems, readFile, options, SOURCE);
    if (!route || problems.length > before) continue;
    const key = `${route.host ?? '*'} ${route.path}`;
    const previous = seen.get(key);
    if (previous !== undefined) {
      problems.push({ code: Codes.routesDuplicate, message: `${route.host ?? 'any host'} ${route.path} is already routed at line ${previous}`, ...where });
      continue;
    }
    seen.set(key, where.line);
    specs.push(...route.specs);
  }
  return problems.length > 0 ? { specs: [], problems } : { specs, problems };
}

type At = (node: Node | null | undefined) => { line: number; column: number };

/**
 * One route kept elsewhere than the file (a store's value), in JSON or YAML, with the file's keys,
 * checks and codes. `origin` names it (`redis berth:route:shop`); lines count within the entry.
 * A `ca` can only be inline PEM here: a store's entry has no folder to read files from.
 */
export function parseRouteEntry(text: string, origin: string, source: SourceName, options: RoutesFileOptions = { tlsDefault: false }): RoutesFileReading {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: Problem[] = doc.errors.map((error) => ({ code: Codes.routesSyntax, message: error.message.split('\n')[0]!, ...position(lines, error.pos[0]) }));
  if (problems.length > 0) return { specs: [], problems };
  const at = (node: Node | null | undefined) => position(lines, node?.range?.[0]);
  const inlinePem: ReadFile = (value) => {
    if (value.includes('-----BEGIN')) return value;
    throw new Error('a stored route has no folder to read from; put the PEM itself in "ca"');
  };
  const route = doc.contents === null ? undefined : readRoute(doc.contents, origin, at, problems, inlinePem, options, source);
  if (doc.contents === null) problems.push({ code: Codes.routesType, message: 'the entry is empty: it must be a mapping with "host" and "to" or "redirect"', line: 1, column: 1 });
  return problems.length > 0 || !route ? { specs: [], problems } : { specs: route.specs, problems };
}

/** One item of the `routes` list, read alone: what parseRoutesFile makes of it, or null when it has any problem. */
export interface RoutesItem {
  readonly host: string | null;
  readonly path: string;
  /** `host path`, what two routes of a file may not share. */
  readonly key: string;
  readonly specs: readonly RouteSpec[];
  /** The line its text starts on, and the line of its first key, which its specs' origins name. */
  readonly firstLine: number;
  readonly line: number;
  /** It named a file (a `ca`): read again with every version of the routes file. */
  readonly readsFiles: boolean;
}

/**
 * Reads one list item cut from a routes file (`  - host: ...` and the lines under it), starting
 * at `firstLine`; positions and origins are the file's. Null when the item has any problem (or
 * is not one item): the caller then reads the whole file, which names the problems.
 */
export function parseRoutesItem(text: string, firstLine: number, fileLabel: string, readFile: ReadFile, options: RoutesFileOptions): RoutesItem | null {
  const lines = new LineCounter();
  let item: Node | null = plainItem(text);
  if (item) {
    lines.addNewLine(0);
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
  } else {
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0 || !isSeq(doc.contents) || doc.contents.items.length !== 1) return null;
    item = doc.contents.items[0] as Node;
  }
  const at = (node: Node | null | undefined) => {
    const where = position(lines, node?.range?.[0]);
    return { line: where.line + firstLine - 1, column: where.column };
  };
  const problems: Problem[] = [];
  let readsFiles = false;
  const reading: ReadFile = (path) => {
    readsFiles = true;
    return readFile(path);
  };
  const line = at(item).line;
  const route = readRoute(item, `${fileLabel}:${line}`, at, problems, reading, options, SOURCE);
  if (!route || problems.length > 0) return null;
  return { ...route, key: `${route.host ?? '*'} ${route.path}`, firstLine, line, readsFiles };
}

/** The same item's text found starting at another line: its specs name the new position (origins and endpoint keys). */
export function movedRoutesItem(item: RoutesItem, firstLine: number, fileLabel: string): RoutesItem {
  if (item.firstLine === firstLine) return item;
  const line = item.line + firstLine - item.firstLine;
  const from = `${fileLabel}:${item.line}`;
  const to = `${fileLabel}:${line}`;
  const specs = item.specs.map((spec): RouteSpec => {
    if (spec.redirect) return { ...spec, redirect: { ...spec.redirect, origin: to } };
    return { ...spec, endpoint: { ...spec.endpoint, key: to + spec.endpoint.key.slice(from.length), origin: to } };
  });
  return { ...item, specs, firstLine, line };
}

function readRoute(
  item: Node,
  origin: string,
  at: At,
  problems: Problem[],
  readFile: ReadFile,
  options: RoutesFileOptions,
  source: SourceName,
): { host: string | null; path: string; specs: RouteSpec[] } | undefined {
  if (!isMap(item)) {
    problems.push({ code: Codes.routesType, message: 'each route must be a mapping', ...at(item) });
    return undefined;
  }
  const values = new Map<string, Node>();
  // Behaviour keys, flattened to the dotted keys labels use, each with where it stands.
  const behaviourKeys = new Map<string, string>();
  const behaviourPlaces = new Map<string, { line: number; column: number }>();
  for (const pair of item.items as Array<Pair<Node, Node>>) {
    const key = keyOf(pair);
    if ((KEYS as readonly string[]).includes(key)) values.set(key, pair.value as Node);
    else if (isBehaviourKey(key)) {
      const flat = flattenKeys(isScalar(pair.value) || pair.value === null ? (pair.value?.value ?? null) : (pair.value as Node).toJSON(), key);
      for (const problem of flat.problems) problems.push({ ...problem, ...at(pair.key) });
      for (const [name, value] of flat.keys) {
        behaviourKeys.set(name, value);
        behaviourPlaces.set(name, at(pair.key));
      }
    } else problems.push({ code: Codes.routesKey, message: `unknown key "${key}"`, fix: `use ${[...KEYS, ...BEHAVIOUR_KEYS].join(', ')}`, ...at(pair.key) });
  }
  const behaviours = readBehaviours(behaviourKeys, (key) => ({ label: key, ...behaviourPlaces.get(key) }));
  problems.push(...behaviours.problems);
  const withBehaviours = behaviours.spec ? { behaviours: behaviours.spec } : {};
  const text = (key: string) => scalarOf(values.get(key), 'string', key, at, problems) as string | undefined;

  const host = values.has('host') ? readHost(text('host'), values.get('host'), at, problems) : null;
  const path = values.has('path') ? readPath(text('path'), values.get('path'), at, problems) : '/';
  const stripPrefix = values.has('strip-prefix') ? (scalarOf(values.get('strip-prefix'), 'boolean', 'strip-prefix', at, problems) as boolean | undefined) : false;
  const hostHeader = values.has('host-header') ? text('host-header') : 'client';
  if (hostHeader !== undefined && hostHeader !== 'client' && hostHeader !== 'upstream') {
    problems.push({ code: Codes.routesType, message: `host-header must be "client" or "upstream", not "${hostHeader}"`, ...at(values.get('host-header')) });
  }

  const https = readHttps(values, options, at, problems);

  if (values.has('to') === values.has('redirect')) {
    problems.push({ code: Codes.routesTarget, message: 'a route needs exactly one of "to" and "redirect"', ...at(item) });
    return undefined;
  }
  if (values.has('redirect')) {
    for (const key of ['host-header', 'tls-verify', 'ca', 'allow-encoded']) {
      if (values.has(key)) problems.push({ code: Codes.routesKey, message: `"${key}" goes with "to", not "redirect"`, ...at(values.get(key)) });
    }
    const redirect = readRedirect(text('redirect'), values, stripPrefix ?? false, origin, at, problems);
    if (!redirect || https === undefined || host === undefined || path === undefined || stripPrefix === undefined) return undefined;
    return { host, path, specs: [{ host, path, source, redirect, ...(https ? { tls: https } : {}), ...withBehaviours }] };
  }
  if (values.has('redirect-code')) problems.push({ code: Codes.routesKey, message: '"redirect-code" goes with "redirect"', ...at(values.get('redirect-code')) });
  const targets = readTargets(values.get('to')!, at, problems);
  const tls = readTls(values, targets, at, problems, readFile);
  const allowEncoded = values.has('allow-encoded') ? readAllowEncoded(values.get('allow-encoded')!, at, problems) : null;
  if (!targets || !tls || allowEncoded === undefined || https === undefined || host === undefined || path === undefined || stripPrefix === undefined) return undefined;
  const specs = targets.map((url): RouteSpec => {
    const endpoint = endpointFor(url, origin, stripPrefix, hostHeader === 'upstream', tls);
    return { host, path, source, endpoint: allowEncoded ? { ...endpoint, allowEncoded } : endpoint, ...(https ? { tls: https } : {}), ...withBehaviours };
  });
  return { host, path, specs };
}

export type Tls = { verify: boolean; ca?: string };

/**
 * The client side's HTTPS: `tls: true`, `tls: false`, or `tls: { redirect: false }` (HTTPS
 * without the redirect), and `hsts`. Null for a plain route; undefined when unreadable.
 */
function readHttps(values: Map<string, Node>, options: RoutesFileOptions, at: At, problems: Problem[]): RouteTls | null | undefined {
  const node = values.get('tls');
  let on: boolean | undefined = options.tlsDefault;
  let redirect: boolean | undefined = true;
  if (isMap(node)) {
    on = true;
    for (const pair of node.items as Array<Pair<Node, Node>>) {
      if (keyOf(pair) === 'redirect') redirect = scalarOf(pair.value as Node, 'boolean', 'tls.redirect', at, problems) as boolean | undefined;
      else problems.push({ code: Codes.routesKey, message: `unknown key "tls.${keyOf(pair)}"`, fix: 'use tls: true, or tls: { redirect: false }', ...at(pair.key as Node) });
    }
  } else if (node !== undefined) {
    on = scalarOf(node, 'boolean', 'tls', at, problems) as boolean | undefined;
  }
  let hsts: string | null | undefined = null;
  if (values.has('hsts')) {
    const raw = scalarOf(values.get('hsts'), 'string', 'hsts', at, problems);
    hsts = raw === undefined ? undefined : parseHsts(String(raw));
    if (raw !== undefined && hsts === undefined) problems.push({ code: Codes.routesHsts, message: `"${String(raw)}" is not an HSTS policy`, fix: `use ${HSTS_FORM}`, ...at(values.get('hsts')) });
  }
  if (on === undefined || redirect === undefined || hsts === undefined) return undefined;
  return on ? { redirect, hsts, explicit: node !== undefined } : null;
}

/** `allow-encoded: slash` or a list (`[slash, backslash]`): encoded characters this route's paths may hold. */
function readAllowEncoded(node: Node, at: At, problems: Problem[]): EncodedChar[] | undefined {
  const items = isSeq(node) ? (node.items as Node[]) : [node];
  const words = items.map((item) => scalarOf(item, 'string', 'allow-encoded', at, problems) as string | undefined);
  if (words.some((word) => word === undefined)) return undefined;
  const parsed = parseEncodedChars(words.join(','));
  if (parsed.ok) return parsed.value;
  problems.push({ code: Codes.routesEncoded, message: `allow-encoded does not know "${parsed.unknown.join(', ')}"`, fix: `use ${ENCODED_CHARS.join(', ')}`, ...at(node) });
  return undefined;
}

/** `tls-verify: false` or `ca: <file>`, for https upstreams with their own CA; the CA is read now. */
function readTls(values: Map<string, Node>, targets: URL[] | undefined, at: At, problems: Problem[], readFile: ReadFile): Tls | undefined {
  const verify = values.has('tls-verify') ? (scalarOf(values.get('tls-verify'), 'boolean', 'tls-verify', at, problems) as boolean | undefined) : true;
  if (!values.has('ca')) return verify === undefined ? undefined : { verify };
  const node = values.get('ca');
  const path = scalarOf(node, 'string', 'ca', at, problems) as string | undefined;
  if (path === undefined || verify === undefined) return undefined;
  if (!verify) {
    problems.push({ code: Codes.routesTls, message: '"ca" verifies the upstream, "tls-verify: false" does not: use one', ...at(node) });
    return undefined;
  }
  if (targets && !targets.some((url) => url.protocol === 'https:')) {
    problems.push({ code: Codes.routesTls, message: '"ca" needs an https:// target in "to"', ...at(node) });
    return undefined;
  }
  let pem: string;
  try {
    pem = readFile(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    problems.push({ code: Codes.routesCa, message: `cannot read the CA file "${path}" (${reason})`, fix: 'give a PEM file berth can read; a relative path is taken from the routes file\'s folder', ...at(node) });
    return undefined;
  }
  if (!isCertificatePem(pem)) {
    problems.push({ code: Codes.routesCa, message: `the CA file "${path}" holds no PEM certificate`, fix: 'give the CA certificate (-----BEGIN CERTIFICATE-----)', ...at(node) });
    return undefined;
  }
  return { verify, ca: pem };
}

function isCertificatePem(text: string): boolean {
  if (!text.includes('-----BEGIN CERTIFICATE-----')) return false;
  try {
    new X509Certificate(text);
    return true;
  } catch {
    return false;
  }
}

function readHost(value: string | undefined, node: Node | undefined, at: At, problems: Problem[]): string | undefined {
  if (value === undefined) return undefined;
  const host = parseHostPattern(value);
  if (host === undefined) problems.push({ code: Codes.routesHost, message: `"${value}" is not a hostname`, fix: 'use names like app.example.com or *.example.com', ...at(node) });
  return host;
}

function readPath(value: string | undefined, node: Node | undefined, at: At, problems: Problem[]): string | undefined {
  if (value === undefined) return undefined;
  const path = parsePathPrefix(value);
  if (path === undefined) problems.push({ code: Codes.routesPath, message: `"${value}" is not a path prefix`, fix: 'start with "/", no spaces, "?", "#", "%" or dot segments', ...at(node) });
  return path;
}

function readTargets(node: Node, at: At, problems: Problem[]): URL[] | undefined {
  const items = isSeq(node) ? (node.items as Node[]) : [node];
  if (items.length === 0) {
    problems.push({ code: Codes.routesTarget, message: '"to" lists no URL', ...at(node) });
    return undefined;
  }
  const urls = items.map((item) => readUrl(scalarOf(item, 'string', 'to', at, problems) as string | undefined, item, at, problems));
  return urls.every((url): url is URL => url !== undefined) ? urls : undefined;
}

function readRedirect(value: string | undefined, values: Map<string, Node>, stripPrefix: boolean, origin: string, at: At, problems: Problem[]): Redirect | undefined {
  const url = readUrl(value, values.get('redirect'), at, problems);
  let code: Redirect['code'] = 301;
  if (values.has('redirect-code')) {
    const raw = scalarOf(values.get('redirect-code'), 'number', 'redirect-code', at, problems);
    if (!(REDIRECT_CODES as readonly unknown[]).includes(raw)) {
      if (raw !== undefined) problems.push({ code: Codes.routesRedirectCode, message: `redirect-code must be one of ${REDIRECT_CODES.join(', ')}`, ...at(values.get('redirect-code')) });
      return undefined;
    }
    code = raw as Redirect['code'];
  }
  if (!url) return undefined;
  return { location: url.origin + url.pathname.replace(/\/+$/, ''), code, stripPrefix, origin };
}

function readUrl(value: string | undefined, node: Node | undefined, at: At, problems: Problem[]): URL | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  const problem =
    !url || (url.protocol !== 'http:' && url.protocol !== 'https:')
      ? 'is not an http:// or https:// URL'
      : url.username || url.password
        ? 'must not carry credentials'
        : url.search || url.hash
          ? 'must not carry a query or fragment'
          : undefined;
  if (problem) {
    problems.push({ code: Codes.routesUrl, message: `"${value}" ${problem}`, ...at(node) });
    return undefined;
  }
  return url;
}

/** The endpoint a `to` URL names, as the routes file and the stores read one. */
export function endpointFor(url: URL, origin: string, stripPrefix: boolean, upstreamHost: boolean, tls: Tls): Endpoint {
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  return {
    key: `${origin} ${url.href}`,
    scheme,
    address: unbracketed(url.hostname),
    port: url.port ? Number(url.port) : scheme === 'https' ? 443 : 80,
    ready: true,
    stripPrefix,
    origin,
    basePath: url.pathname.replace(/\/+$/, ''),
    upstreamHost,
    verifyTls: tls.verify,
    ...(tls.ca !== undefined && scheme === 'https' ? { ca: tls.ca } : {}),
  };
}

function keyOf(pair: Pair<Node, Node>): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

/** The node's value when it is a scalar of the wanted type; else a problem. */
function scalarOf(node: Node | undefined, type: 'string' | 'boolean' | 'number', key: string, at: At, problems: Problem[]): unknown {
  if (isScalar(node) && typeof node.value === type && (type !== 'string' || (node.value as string).trim() !== '')) {
    return type === 'string' ? (node.value as string).trim() : node.value;
  }
  // A quoted "yes" reads as labels and settings read it.
  if (type === 'boolean' && isScalar(node) && typeof node.value === 'string') {
    const value = parseBooleanWord(node.value);
    if (value !== undefined) return value;
  }
  const wanted = type === 'string' ? 'non-empty string' : type === 'boolean' ? `boolean (${BOOLEAN_WORDS})` : type;
  problems.push({ code: Codes.routesType, message: `"${key}" must be a ${wanted}`, ...at(node) });
  return undefined;
}

function position(lines: LineCounter, offset: number | undefined): { line: number; column: number } {
  if (offset === undefined) return { line: 1, column: 1 };
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}
