// Container labels -> route intents. Pure: every bad value becomes a Problem, nothing throws.
import { Codes } from '../errors.js';
import { parseHostPattern } from '../routes/host.js';
import { HSTS_FORM, parseHsts } from '../routes/hsts.js';
import { uniqueProblems } from '../routes/problems.js';
import { plainHttpUrl } from '../util/url.js';
import { parsePathPrefix } from '../routes/path.js';
import type { Problem, Scheme } from '../routes/types.js';
import { ENCODED_CHARS, parseEncodedChars, type EncodedChar } from '../proxy/target.js';
import { BOOLEAN_WORDS, parseBooleanWord } from '../util/boolean.js';
import { isBehaviourKey, readBehaviours, type BehaviourSpec } from '../behaviours/spec.js';

/** What the labels ask for one route; the container fills in what is left open. */
export interface RouteIntent {
  /** `default` for the top-level labels, else the `<name>` of `route.<name>.*`. */
  readonly name: string;
  /** Hostnames from the labels; null means "the container's name host", when name routing applies. */
  readonly hosts: readonly string[] | null;
  readonly path: string;
  readonly stripPrefix: boolean;
  readonly scheme: Scheme;
  readonly port: number | null;
  readonly network: string | null;
  /** Encoded characters its paths may hold; null: the global setting. */
  readonly allowEncoded: readonly EncodedChar[] | null;
  /** `tls`: true or false as labelled, null when unset (then --tls-default decides). */
  readonly tls: boolean | null;
  /** `tls.redirect`: plain HTTP gets a 308 to HTTPS (default true). */
  readonly tlsRedirect: boolean;
  /** `hsts`, as the header value, or null. */
  readonly hsts: string | null;
  /** Allow list, rate limit, auth, headers, body limit; null when none is set. */
  readonly behaviours?: BehaviourSpec | null;
  /** Answer with a redirect instead of forwarding (`redirect`, `redirect-code`); per route, never inherited. */
  readonly redirect?: { readonly location: string; readonly code: 301 | 302 | 307 | 308 } | null;
}

export interface LabelReading {
  /** The `enable` label: true, false, or null when unset. */
  readonly enable: boolean | null;
  readonly routes: readonly RouteIntent[];
  readonly problems: readonly Problem[];
}

const ROUTE_KEYS = ['host', 'path', 'strip-prefix', 'scheme', 'port', 'network', 'allow-encoded', 'tls', 'tls.redirect', 'hsts', 'redirect', 'redirect-code'] as const;
const TOP_KEYS = ['enable', ...ROUTE_KEYS] as const;
type RouteKey = (typeof ROUTE_KEYS)[number];
const ROUTE_NAME = /^[a-z0-9_-]{1,63}$/i;

/** Reads every `<prefix>.*` label; `route.<name>.*` groups become named routes. */
export function readLabels(labels: Readonly<Record<string, string>>, prefix: string): LabelReading {
  const problems: Problem[] = [];
  const top = new Map<string, string>();
  const named = new Map<string, Map<RouteKey, string>>();
  // Behaviour keys (auth.basic, allow, headers.request.X...), per route; named routes take the
  // top-level ones key by key unless they set their own.
  const topBehaviours = new Map<string, string>();
  const namedBehaviours = new Map<string, Map<string, string>>();
  const start = prefix + '.';

  for (const label of Object.keys(labels).sort()) {
    if (!label.startsWith(start)) continue;
    const key = label.slice(start.length);
    const value = labels[label] ?? '';
    const parts = key.split('.');
    if (parts[0] === 'route' && parts.length >= 3) {
      const name = parts[1] ?? '';
      const routeKey = parts.slice(2).join('.');
      if (!ROUTE_NAME.test(name)) {
        problems.push({ code: Codes.labelUnknown, label, message: `route name "${name}" must be letters, digits, "-" or "_"` });
      } else if (isBehaviourKey(routeKey)) {
        const group = namedBehaviours.get(name) ?? new Map<string, string>();
        group.set(routeKey, value);
        namedBehaviours.set(name, group);
        if (!named.has(name)) named.set(name, new Map());
      } else if (!isRouteKey(routeKey)) {
        problems.push(unknownLabel(label, ROUTE_KEYS));
      } else {
        const group = named.get(name) ?? new Map<RouteKey, string>();
        group.set(routeKey, value);
        named.set(name, group);
      }
    } else if ((TOP_KEYS as readonly string[]).includes(key)) {
      top.set(key, value);
    } else if (isBehaviourKey(key)) {
      topBehaviours.set(key, value);
    } else {
      problems.push(unknownLabel(label, TOP_KEYS));
    }
  }
  const behavioursOf = (label: string, own: ReadonlyMap<string, string> = new Map()) => {
    const keys = new Map([...topBehaviours, ...own]);
    const reading = readBehaviours(keys, (key) => (own.has(key) ? `${label}${key}` : `${start}${key}`));
    problems.push(...reading.problems);
    return reading.spec;
  };

  const enable = top.has('enable') ? readBoolean(top.get('enable')!, `${start}enable`, problems) : null;
  if (enable === undefined) {
    // An unreadable opt-in is not a yes: expose nothing until it is fixed.
    return { enable: false, routes: [], problems };
  }

  // Shared values: undefined when unreadable, so only the routes that inherit them are dropped.
  const base: Inherited = {
    scheme: readScheme(top.get('scheme'), `${start}scheme`, problems),
    port: readPort(top.get('port'), `${start}port`, problems),
    network: readNetwork(top.get('network'), `${start}network`, problems),
    allowEncoded: readAllowEncoded(top.get('allow-encoded'), `${start}allow-encoded`, problems),
    tls: top.has('tls') ? readBoolean(top.get('tls')!, `${start}tls`, problems) : null,
    tlsRedirect: top.has('tls.redirect') ? readBoolean(top.get('tls.redirect')!, `${start}tls.redirect`, problems) : true,
    hsts: readHstsLabel(top.get('hsts'), `${start}hsts`, problems),
  };
  const topHosts = top.has('host') ? readHosts(top.get('host')!, `${start}host`, problems) : null;

  const routes: RouteIntent[] = [];
  // Per-route keys the top-level labels give the default route only, never named ones.
  const pathKeys = new Map([...top].filter(([key]) => key === 'path' || key === 'strip-prefix' || key === 'redirect' || key === 'redirect-code'));
  const defaultRoute = readRoute('default', pathKeys, start, base, topHosts, problems);
  if (defaultRoute) routes.push({ ...defaultRoute, behaviours: behavioursOf(start) });
  for (const [name, group] of [...named].sort(([a], [b]) => a.localeCompare(b))) {
    const label = `${start}route.${name}.`;
    const hosts = group.has('host') ? readHosts(group.get('host')!, `${label}host`, problems) : topHosts;
    const route = readRoute(name, group, label, base, hosts, problems);
    if (route) routes.push({ ...route, behaviours: behavioursOf(label, namedBehaviours.get(name)) });
  }
  // Top-level behaviour problems are met once per route that takes them: say each once.
  return { enable, routes, problems: uniqueProblems(problems) };
}

/** Values a named route takes from the top-level labels unless it sets its own. */
interface Inherited {
  readonly scheme: Scheme | undefined;
  readonly port: number | null | undefined;
  readonly network: string | null | undefined;
  readonly allowEncoded: readonly EncodedChar[] | null | undefined;
  readonly tls: boolean | null | undefined;
  readonly tlsRedirect: boolean | undefined;
  readonly hsts: string | null | undefined;
}

/** `hosts` (or an inherited value) undefined means it was unreadable: the route is dropped. */
function readRoute(
  name: string,
  values: ReadonlyMap<string, string>,
  label: string,
  base: Inherited,
  hosts: readonly string[] | null | undefined,
  problems: Problem[],
): RouteIntent | undefined {
  if (hosts === undefined) return undefined;
  const before = problems.length;
  const path = values.has('path') ? readPath(values.get('path')!, `${label}path`, problems) : '/';
  const stripPrefix = values.has('strip-prefix') ? readBoolean(values.get('strip-prefix')!, `${label}strip-prefix`, problems) : false;
  const scheme = values.has('scheme') ? readScheme(values.get('scheme'), `${label}scheme`, problems) : base.scheme;
  const port = values.has('port') ? readPort(values.get('port'), `${label}port`, problems) : base.port;
  const network = values.has('network') ? readNetwork(values.get('network'), `${label}network`, problems) : base.network;
  const allowEncoded = values.has('allow-encoded') ? readAllowEncoded(values.get('allow-encoded'), `${label}allow-encoded`, problems) : base.allowEncoded;
  const tls = values.has('tls') ? readBoolean(values.get('tls')!, `${label}tls`, problems) : base.tls;
  const tlsRedirect = values.has('tls.redirect') ? readBoolean(values.get('tls.redirect')!, `${label}tls.redirect`, problems) : base.tlsRedirect;
  const hsts = values.has('hsts') ? readHstsLabel(values.get('hsts'), `${label}hsts`, problems) : base.hsts;
  if (problems.length > before || path === undefined || stripPrefix === undefined) return undefined;
  if (scheme === undefined || port === undefined || network === undefined || allowEncoded === undefined) return undefined;
  if (tls === undefined || tlsRedirect === undefined || hsts === undefined) return undefined;
  const redirect = values.has('redirect') || values.has('redirect-code') ? readRedirect(values, label, problems) : null;
  if (redirect === undefined) return undefined;
  return { name, hosts, path, stripPrefix, scheme, port, network, allowEncoded, tls, tlsRedirect, hsts, ...(redirect ? { redirect } : {}) };
}


function isRouteKey(key: string): key is RouteKey {
  return (ROUTE_KEYS as readonly string[]).includes(key);
}

function unknownLabel(label: string, known: readonly string[]): Problem {
  return { code: Codes.labelUnknown, label, message: `unknown label ${label}`, fix: `use one of: ${known.join(', ')}` };
}

function readBoolean(value: string, label: string, problems: Problem[]): boolean | undefined {
  const parsed = parseBooleanWord(value);
  if (parsed === undefined) problems.push({ code: Codes.labelBoolean, label, message: `${label}="${value}" is not a boolean (${BOOLEAN_WORDS})`, fix: `use ${BOOLEAN_WORDS}` });
  return parsed;
}

const REDIRECT_CODES = [301, 302, 307, 308] as const;

/** `redirect` (an http(s) URL: scheme, host, optional path) and `redirect-code` (301 by default). */
function readRedirect(values: ReadonlyMap<string, string>, label: string, problems: Problem[]): { location: string; code: (typeof REDIRECT_CODES)[number] } | undefined {
  const raw = values.get('redirect');
  if (raw === undefined) {
    problems.push({ code: Codes.labelRedirect, label: `${label}redirect-code`, message: `${label}redirect-code without ${label}redirect`, fix: `set ${label}redirect to the URL to send clients to` });
    return undefined;
  }
  const url = plainHttpUrl(raw, { query: false });
  if (!url) {
    problems.push({ code: Codes.labelRedirect, label: `${label}redirect`, message: `"${raw}" is not a plain http(s) URL`, fix: 'use a URL like https://new.example.com or https://example.com/base' });
    return undefined;
  }
  const codeText = values.get('redirect-code')?.trim() ?? '301';
  const code = REDIRECT_CODES.find((known) => String(known) === codeText);
  if (code === undefined) {
    problems.push({ code: Codes.labelRedirect, label: `${label}redirect-code`, message: `"${codeText}" is not 301, 302, 307 or 308`, fix: 'use 301, 302, 307 or 308' });
    return undefined;
  }
  return { location: url.origin + url.pathname.replace(/\/+$/, ''), code };
}

/** Absent -> null; unreadable -> undefined with a problem. */
function readHstsLabel(value: string | undefined, label: string, problems: Problem[]): string | null | undefined {
  if (value === undefined) return null;
  const hsts = parseHsts(value);
  if (hsts === undefined) problems.push({ code: Codes.labelHsts, label, message: `"${value}" is not an HSTS policy`, fix: `use ${HSTS_FORM}, e.g. 31536000; includeSubDomains` });
  return hsts;
}

/** Absent -> null (the global setting); unknown words -> undefined with a problem. */
function readAllowEncoded(value: string | undefined, label: string, problems: Problem[]): readonly EncodedChar[] | null | undefined {
  if (value === undefined) return null;
  const parsed = parseEncodedChars(value);
  if (parsed.ok) return parsed.value;
  problems.push({ code: Codes.labelEncoded, label, message: `${label} does not know "${parsed.unknown.join(', ')}"`, fix: `use ${ENCODED_CHARS.join(', ')}, comma-separated` });
  return undefined;
}

function readHosts(value: string, label: string, problems: Problem[]): string[] | undefined {
  const hosts: string[] = [];
  for (const entry of value.split(',')) {
    if (entry.trim() === '') continue;
    const host = parseHostPattern(entry);
    if (host === undefined) {
      problems.push({ code: Codes.labelHost, label, message: `"${entry.trim()}" is not a valid hostname`, fix: 'use names like app.example.com or *.example.com, comma separated' });
    } else if (!hosts.includes(host)) {
      hosts.push(host);
    }
  }
  if (hosts.length === 0 && !problems.some((p) => p.label === label)) {
    problems.push({ code: Codes.labelHost, label, message: `${label} is empty`, fix: 'name at least one hostname' });
  }
  return hosts.length > 0 ? hosts : undefined;
}

function readPath(value: string, label: string, problems: Problem[]): string | undefined {
  const path = parsePathPrefix(value);
  if (path === undefined) {
    problems.push({ code: Codes.labelPath, label, message: `"${value}" is not a path prefix`, fix: 'start with "/", no spaces, "?", "#", "%" or dot segments' });
  }
  return path;
}

/** Absent -> null (decided later); invalid -> undefined with a problem. */
function readPort(value: string | undefined, label: string, problems: Problem[]): number | null | undefined {
  if (value === undefined) return null;
  const port = /^\d{1,5}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (port >= 1 && port <= 65535) return port;
  problems.push({ code: Codes.labelPort, label, message: `"${value}" is not a port number`, fix: 'use a number from 1 to 65535' });
  return undefined;
}

function readScheme(value: string | undefined, label: string, problems: Problem[]): Scheme | undefined {
  if (value === undefined) return 'http';
  const scheme = value.trim().toLowerCase();
  if (scheme === 'http' || scheme === 'https') return scheme;
  problems.push({ code: Codes.labelScheme, label, message: `"${value}" is not http or https`, fix: 'use http or https' });
  return undefined;
}

function readNetwork(value: string | undefined, label: string, problems: Problem[]): string | null | undefined {
  if (value === undefined) return null;
  if (value.trim() !== '') return value.trim();
  problems.push({ code: Codes.labelNetwork, label, message: `${label} is empty`, fix: 'name one of the container\'s networks' });
  return undefined;
}
