// Traefik's Docker labels -> berth's native label keys. Pure: labels in, the native keys that say
// the same thing (read by readLabels like any berth labels), where each came from, and problems
// out. What berth cannot express is a problem naming the Traefik label; a router that needs an
// access check berth cannot honour is kept but closed (503), never served open.
import { uniqueProblems } from '../../routes/problems.js';
import { Codes } from '../../errors.js';
import type { Problem } from '../../routes/types.js';
import { parseBooleanWord } from '../../util/boolean.js';
import { readRule } from './traefik-rule.js';

export interface CompatTranslation {
  /** Whether the container carries any label of this tool. */
  readonly present: boolean;
  /** Native keys after the prefix (`enable`, `network`, `port`, `route.<router>.host`, ...). */
  readonly keys: ReadonlyMap<string, string>;
  /** Native key after the prefix -> the label to name in problems about it. */
  readonly origin: ReadonlyMap<string, string>;
  /** Route names that must stay closed: an access check berth cannot honour. */
  readonly closed: readonly string[];
  /** Routes come from routers (then the default route is not one). */
  readonly routers: boolean;
  readonly problems: readonly Problem[];
}

interface Given {
  readonly label: string;
  readonly value: string;
}

interface Middleware {
  readonly type: string;
  readonly label: string;
  /** Option (lowercase, header names as written) -> value. */
  readonly options: ReadonlyMap<string, Given>;
}

/** One router's translation, before twins (the HTTP and HTTPS router of one rule) are folded. */
interface Plan {
  readonly name: string;
  readonly rule: string;
  /** Hosts and path, as a key for finding twins; null without a readable rule. */
  readonly twinKey: string | null;
  readonly kind: 'http' | 'https' | 'redirect' | 'any';
  readonly service: string | null;
  readonly middlewares: string;
  readonly keys: Map<string, Given>;
  closed: boolean;
}

const PREFIX = 'traefik.';
const ROUTER_OPTIONS = new Set(['rule', 'service', 'entrypoints', 'middlewares', 'tls', 'tls.certresolver', 'rulesyntax']);
const HTTP_ENTRYPOINTS = new Set(['web', 'http']);
const HTTPS_ENTRYPOINTS = new Set(['websecure', 'https']);
// Middlewares berth does not do, that change requests or answers but decide no access: the route
// is served without them. Any other type berth does not know may be an access check: it closes.
const SKIPPABLE = new Set([
  'addprefix', 'buffering', 'circuitbreaker', 'contenttype', 'errors', 'grpcweb', 'inflightreq',
  'passtlsclientcert', 'redirectregex', 'replacepath', 'replacepathregex', 'retry', 'stripprefixregex',
]);
// The middlewares berth translates that decide no access.
const NO_ACCESS = new Set(['stripprefix', 'headers', 'redirectscheme', 'compress', 'ratelimit']);
const UNSUPPORTED_FIX = 'see "Reading other tools\' labels" in the README for what berth translates; use berth labels for the rest';

export function translateTraefik(labels: Readonly<Record<string, string>>): CompatTranslation {
  const problems: Problem[] = [];
  const keys = new Map<string, string>();
  const origin = new Map<string, string>();
  const routers = new Map<string, Map<string, Given>>();
  const services = new Map<string, Map<string, Given>>();
  const middlewares = new Map<string, Middleware>();
  let present = false;
  const unsupported = (label: string, message = `berth does not translate ${label}`) =>
    problems.push({ code: Codes.compatUnsupported, label, message, fix: UNSUPPORTED_FIX });

  for (const label of Object.keys(labels).sort()) {
    if (!label.toLowerCase().startsWith(PREFIX)) continue;
    present = true;
    const value = labels[label] ?? '';
    const parts = label.slice(PREFIX.length).split('.');
    const head = parts.map((part) => part.toLowerCase());
    if (head.length === 1 && head[0] === 'enable') {
      set(keys, origin, 'enable', value, label);
    } else if (head.length === 2 && head[0] === 'docker' && head[1] === 'network') {
      set(keys, origin, 'network', value, label);
    } else if (head[0] === 'http' && (head[1] === 'routers' || head[1] === 'services') && parts.length >= 4) {
      const group = head[1] === 'routers' ? routers : services;
      const options = group.get(parts[2]!) ?? new Map<string, Given>();
      options.set(head.slice(3).join('.'), { label, value });
      group.set(parts[2]!, options);
    } else if (head[0] === 'http' && head[1] === 'middlewares' && parts.length >= 4) {
      const name = parts[2]!;
      const type = head[3]!;
      const known = middlewares.get(name);
      if (known && known.type !== type) {
        unsupported(label, `middleware "${name}" is given two types (${known.type}, ${type})`);
        continue;
      }
      const options = new Map(known?.options ?? []);
      // Option names ignore case; header names keep the case they are written in.
      const option = head[4] === 'customrequestheaders' || head[4] === 'customresponseheaders' ? [head[4], ...parts.slice(5)].join('.') : head.slice(4).join('.');
      options.set(option, { label, value });
      middlewares.set(name, { type, label: known?.label ?? label, options });
    } else if (head[0] === 'tcp' || head[0] === 'udp') {
      unsupported(label, `${label}: berth routes HTTP only, not ${head[0].toUpperCase()}`);
    } else if (head[0] === 'frontend' || head[0] === 'backend' || head[0] === 'port' || head[0] === 'protocol') {
      unsupported(label, `${label} is a Traefik v1 label`);
    } else {
      unsupported(label);
    }
  }

  const serviceNames = [...services.keys()].sort();
  for (const name of serviceNames) {
    for (const [option, given] of services.get(name)!) {
      if (option === 'loadbalancer.server.port' || option === 'loadbalancer.server.scheme') continue;
      if (option === 'loadbalancer.passhostheader' && parseBooleanWord(given.value) === true) continue;
      unsupported(given.label, option === 'loadbalancer.passhostheader' ? 'berth always passes the Host header' : undefined);
    }
  }

  if (routers.size === 0) {
    // No router: Traefik's default rule, which for berth is name routing (--domain).
    if (services.size > 1) {
      problems.push({ code: Codes.compatService, label: `${PREFIX}http.services`, message: `the container defines ${services.size} services and no router`, fix: 'add a router with a rule and a service' });
    } else if (services.size === 1) {
      for (const [key, given] of serviceKeys(services.get(serviceNames[0]!)!)) set(keys, origin, key, given.value, given.label);
    }
    origin.set('port', `${PREFIX}http.services.${serviceNames[0] ?? '<service>'}.loadbalancer.server.port`);
    origin.set('host', `${PREFIX}http.routers.<router>.rule`);
    return { present, keys, origin, closed: [], routers: false, problems: uniqueProblems(problems) };
  }

  const plans: Plan[] = [];
  const unrouted: Array<{ name: string; label: string; hosts: string[] }> = [];
  for (const [name, options] of [...routers].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const plan = planRouter(name, options, services, serviceNames, middlewares, problems);
    if (plan) plans.push(plan);
    else if (options.has('rule') && checksAccess(options, middlewares)) unrouted.push({ name, label: options.get('rule')!.label, hosts: hostsNamed(options.get('rule')!.value) });
  }
  foldTwins(plans, problems);
  // A router berth cannot route that checks access would guard part of its hosts in Traefik (a
  // Method or Headers matcher narrows a broader router): without it, that part would be served
  // by the broader router, open. Close the container's routes on those hosts instead.
  for (const guard of unrouted) {
    for (const plan of plans) {
      const hosts = plan.keys.get('host')?.value.split(',') ?? [];
      if (plan.closed || !hosts.some((host) => guard.hosts.includes(host))) continue;
      plan.closed = true;
      problems.push({ code: Codes.compatRule, label: guard.label, message: `router "${guard.name}" checks access on part of the hosts of router "${plan.name}" and cannot be routed, so "${plan.name}" is closed (503)`, fix: 'give the guarded part its own host or PathPrefix, or use berth labels' });
    }
  }

  const closed: string[] = [];
  for (const plan of plans) {
    for (const [key, given] of plan.keys) set(keys, origin, `route.${plan.name}.${key}`, given.value, given.label);
    if (!origin.has(`route.${plan.name}.host`)) origin.set(`route.${plan.name}.host`, `${PREFIX}http.routers.${plan.name}.rule`);
    if (!origin.has(`route.${plan.name}.port`)) origin.set(`route.${plan.name}.port`, `${PREFIX}http.services.${plan.service ?? plan.name}.loadbalancer.server.port`);
    if (plan.closed) closed.push(plan.name);
  }
  if (!origin.has('network')) origin.set('network', `${PREFIX}docker.network`);
  return { present, keys, origin, closed, routers: true, problems: uniqueProblems(problems) };
}

function planRouter(
  name: string,
  options: ReadonlyMap<string, Given>,
  services: ReadonlyMap<string, ReadonlyMap<string, Given>>,
  serviceNames: readonly string[],
  middlewares: ReadonlyMap<string, Middleware>,
  problems: Problem[],
): Plan | undefined {
  const label = (option: string) => options.get(option)?.label ?? `${PREFIX}http.routers.${name}.${option}`;
  const keys = new Map<string, Given>();
  let closed = false;
  for (const [option, given] of options) {
    if (ROUTER_OPTIONS.has(option)) continue;
    const why = option === 'priority' ? 'berth orders routes by how specific they are (longest path first)' : option.startsWith('tls.domains') ? 'berth asks for a certificate per routed host' : undefined;
    problems.push({ code: Codes.compatUnsupported, label: given.label, message: why ? `${given.label} is ignored: ${why}` : `berth does not translate ${given.label}`, fix: UNSUPPORTED_FIX });
  }

  // The rule: hosts and one path prefix, or no route at all.
  const rule = options.get('rule');
  let path = '/';
  let twinKey: string | null = null;
  if (rule) {
    const reading = readRule(rule.value);
    if (!reading.ok) {
      problems.push({ code: Codes.compatRule, label: rule.label, message: `the rule cannot be routed: ${reading.reason}`, fix: 'use Host(`...`) clauses joined with ||, optionally && PathPrefix(`/...`); or berth labels' });
      return undefined;
    }
    path = reading.route.path;
    keys.set('host', { label: rule.label, value: reading.route.hosts.join(',') });
    if (path !== '/') keys.set('path', { label: rule.label, value: path });
    if (reading.route.exactPath) {
      problems.push({ code: Codes.compatPath, label: rule.label, message: `Path(\`${path}\`) is read as the prefix ${path}: it also matches ${path === '/' ? 'every path' : `${path}/...`}`, fix: 'write PathPrefix to say so, or give the deeper paths their own router' });
    }
    twinKey = `${[...reading.route.hosts].sort().join(',')} ${path}`;
  }

  // The service: this container's own, named or the only one.
  let service: string | null = null;
  const named = options.get('service');
  if (named) {
    const [serviceName = '', provider] = named.value.trim().split('@');
    if ((provider === undefined || provider === 'docker') && services.has(serviceName)) {
      service = serviceName;
    } else {
      problems.push({ code: Codes.compatService, label: named.label, message: `service "${named.value.trim()}" is not defined on this container; the route is closed (503)`, fix: `define ${PREFIX}http.services.${serviceName}.loadbalancer.server.port on this container, or name one of its services` });
      closed = true;
    }
  } else if (serviceNames.length === 1) {
    service = serviceNames[0]!;
  } else if (serviceNames.length > 1) {
    problems.push({ code: Codes.compatService, label: label('service'), message: `the container defines several services (${serviceNames.join(', ')}) and the router names none; the route is closed (503)`, fix: `set ${label('service')}` });
    closed = true;
  }
  if (service !== null) for (const [key, given] of serviceKeys(services.get(service)!)) keys.set(key, given);

  // Middlewares, in the order given; berth applies its behaviours in its own fixed order.
  let redirect = false;
  const used = (options.get('middlewares')?.value ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  for (const entry of used) {
    const [middlewareName = '', provider] = entry.split('@');
    const middleware = provider === undefined || provider === 'docker' ? middlewares.get(middlewareName) : undefined;
    if (!middleware) {
      // Defined elsewhere (another container, a file, a plugin): it may be an access check.
      problems.push({ code: Codes.compatMiddleware, label: label('middlewares'), message: `middleware "${entry}" is not defined on this container, so berth cannot tell what it checks; the route is closed (503)`, fix: 'define the middleware on this container with a type berth translates, or use berth labels' });
      closed = true;
      continue;
    }
    const result = translateMiddleware(middlewareName, middleware, path, keys, problems);
    closed ||= result.closed;
    redirect ||= result.redirect;
  }

  // Entry points and TLS: which of HTTP and HTTPS the route serves.
  const entrypoints = new Set<'http' | 'https'>();
  const eps = options.get('entrypoints');
  for (const entry of (eps?.value ?? '').split(',').map((e) => e.trim().toLowerCase()).filter((e) => e !== '')) {
    if (HTTP_ENTRYPOINTS.has(entry)) entrypoints.add('http');
    else if (HTTPS_ENTRYPOINTS.has(entry)) entrypoints.add('https');
    else problems.push({ code: Codes.compatUnsupported, label: eps!.label, message: `entry point "${entry}" is neither web (HTTP) nor websecure (HTTPS)`, fix: 'use web or websecure; berth serves its own HTTP and HTTPS ports' });
  }
  const tls = options.get('tls');
  const tlsOn = tls ? parseBooleanWord(tls.value) : null;
  if (tls && tlsOn === undefined) problems.push({ code: Codes.labelBoolean, label: tls.label, message: `${tls.label}="${tls.value}" is not a boolean`, fix: 'use true or false' });
  const resolver = options.get('tls.certresolver');
  const secure = tlsOn === true || resolver !== undefined || entrypoints.has('https');
  let kind: Plan['kind'] = 'any';
  if (secure) {
    kind = 'https';
    keys.set('tls', { label: (resolver ?? tls ?? eps)!.label, value: 'true' });
    // A router with a TLS section ignores plain HTTP; one on both entry points without it serves both.
    if (entrypoints.has('http') && tlsOn !== true && !resolver) keys.set('tls.redirect', { label: eps!.label, value: 'false' });
  } else if (redirect) {
    kind = 'redirect';
    keys.set('tls', { label: label('middlewares'), value: 'true' });
  } else if (entrypoints.size > 0 || tlsOn === false) {
    kind = 'http';
    keys.set('tls', { label: (eps ?? tls)!.label, value: 'false' });
  }
  return { name, rule: rule?.label ?? label('rule'), twinKey, kind, service, middlewares: used.join(','), keys, closed };
}

/** Whether a router names a middleware that may decide who gets in (or one berth cannot see). */
function checksAccess(options: ReadonlyMap<string, Given>, middlewares: ReadonlyMap<string, Middleware>): boolean {
  const used = (options.get('middlewares')?.value ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  return used.some((entry) => {
    const [name = '', provider] = entry.split('@');
    const middleware = provider === undefined || provider === 'docker' ? middlewares.get(name) : undefined;
    return !middleware || !(NO_ACCESS.has(middleware.type) || SKIPPABLE.has(middleware.type));
  });
}

/** Every value of a Host(...) or HostHeader(...) in a rule, readable or not as a whole. */
function hostsNamed(rule: string): string[] {
  const hosts: string[] = [];
  for (const match of rule.matchAll(/\bHost(?:Header)?\s*\(([^)]*)\)/gi)) {
    for (const value of match[1]!.matchAll(/[`"]([^`"]*)[`"]/g)) hosts.push(value[1]!.trim().toLowerCase());
  }
  return hosts;
}

/** The HTTP router beside an HTTPS router of the same rule: berth makes one route of them. */
function foldTwins(plans: Plan[], problems: Problem[]): void {
  const groups = new Map<string, Plan[]>();
  for (const plan of plans) if (plan.twinKey !== null) groups.set(plan.twinKey, [...(groups.get(plan.twinKey) ?? []), plan]);
  for (const group of groups.values()) {
    const secure = group.filter((plan) => plan.kind === 'https');
    if (group.length < 2 || secure.length !== 1) continue;
    const https = secure[0]!;
    for (const plan of group) {
      if (plan === https || plan.kind === 'any') continue;
      if (plan.kind === 'http') {
        if (plan.service === https.service && plan.middlewares === https.middlewares) {
          https.keys.set('tls.redirect', { label: plan.rule, value: 'false' });
        } else {
          problems.push({ code: Codes.compatUnsupported, label: plan.rule, message: `router "${plan.name}" serves the same hosts and path as "${https.name}" over HTTP, differently; berth redirects its requests to HTTPS`, fix: 'give both routers the same service and middlewares to serve both, or redirect with redirectscheme' });
        }
      }
      // A redirecting router, or one folded in: the HTTPS route's own redirect does its work.
      plans.splice(plans.indexOf(plan), 1);
    }
  }
}

/** The native keys a service's labels give: port and scheme. */
function serviceKeys(options: ReadonlyMap<string, Given>): Array<[string, Given]> {
  const keys: Array<[string, Given]> = [];
  for (const [option, key] of [['loadbalancer.server.port', 'port'], ['loadbalancer.server.scheme', 'scheme']] as const) {
    const given = options.get(option);
    if (given) keys.push([key, given]);
  }
  return keys;
}

/** Adds one middleware's native keys to a router's; `closed` when it decides access berth cannot decide. */
function translateMiddleware(name: string, middleware: Middleware, path: string, keys: Map<string, Given>, problems: Problem[]): { closed: boolean; redirect: boolean } {
  const { type, options } = middleware;
  let closed = false;
  let redirect = false;
  const skip = (given: Given, why?: string) =>
    problems.push({ code: Codes.compatUnsupported, label: given.label, message: why ?? `berth does not translate ${given.label}; the middleware works without it`, fix: UNSUPPORTED_FIX });
  const close = (given: Given, why: string) => {
    problems.push({ code: Codes.compatMiddleware, label: given.label, message: `${why}; routes using middleware "${name}" are closed (503)`, fix: 'use a basicauth or ipallowlist with the options berth translates, or berth labels' });
    closed = true;
  };
  const put = (key: string, given: Given, value = given.value) => {
    const known = keys.get(key);
    if (known && known.value !== value) {
      if (key.startsWith('auth.') || key === 'allow') close(given, `${key} is given by two middlewares of one router`);
      else problems.push({ code: Codes.compatMiddleware, label: given.label, message: `${key} is also given by ${known.label}; this one is used`, fix: 'give it once per router' });
    }
    keys.set(key, { label: given.label, value });
  };

  switch (type) {
    case 'stripprefix': {
      for (const [option, given] of options) {
        if (option !== 'prefixes') { skip(given); continue; }
        const prefixes = given.value.split(',').map((p) => p.trim().replace(/(.)\/+$/, '$1')).filter((p) => p !== '');
        if (prefixes.length === 1 && prefixes[0] === path && path !== '/') put('strip-prefix', given, 'true');
        else problems.push({ code: Codes.compatMiddleware, label: given.label, message: `berth strips the route's own path prefix only (${path}), not ${prefixes.join(', ') || 'nothing'}; the prefix is not stripped`, fix: 'strip exactly the PathPrefix of the router\'s rule' });
      }
      break;
    }
    case 'basicauth': {
      let removeHeader = false;
      for (const [option, given] of options) {
        if (option === 'users') put('auth.basic', given);
        else if (option === 'realm') put('auth.basic.realm', given);
        else if (option === 'removeheader') removeHeader = parseBooleanWord(given.value) === true;
        else if (option === 'usersfile') close(given, 'berth cannot read a users file named by a label');
        else skip(given);
      }
      if (!options.has('users') && !options.has('usersfile')) close(middleware.options.values().next().value ?? { label: middleware.label, value: '' }, 'the basicauth middleware lists no users');
      // Traefik passes the Authorization header upstream unless removeHeader is set.
      if (options.has('users')) put('auth.basic.forward', options.get('users')!, removeHeader ? 'false' : 'true');
      break;
    }
    case 'ipallowlist':
    case 'ipwhitelist': {
      for (const [option, given] of options) {
        if (option === 'sourcerange') put('allow', given);
        else if (option.startsWith('ipstrategy')) close(given, 'berth takes the client address from the connection or, behind --trusted-proxies, X-Forwarded-For, and cannot follow ipStrategy');
        else skip(given);
      }
      if (!options.has('sourcerange')) close({ label: middleware.label, value: '' }, `the ${type} middleware lists no sourceRange`);
      break;
    }
    case 'headers': {
      let sts: { seconds?: Given; sub?: boolean; preload?: boolean } = {};
      for (const [option, given] of options) {
        const header = /^(customrequestheaders|customresponseheaders)\.(.+)$/.exec(option);
        if (header) put(`headers.${header[1] === 'customrequestheaders' ? 'request' : 'response'}.${header[2]}`, given);
        else if (option === 'stsseconds') sts = { ...sts, seconds: given };
        else if (option === 'stsincludesubdomains') sts = { ...sts, sub: parseBooleanWord(given.value) === true };
        else if (option === 'stspreload') sts = { ...sts, preload: parseBooleanWord(given.value) === true };
        else skip(given);
      }
      if (sts.seconds && sts.seconds.value.trim() !== '0') {
        put('hsts', sts.seconds, [sts.seconds.value.trim(), ...(sts.sub ? ['includeSubDomains'] : []), ...(sts.preload ? ['preload'] : [])].join('; '));
      }
      break;
    }
    case 'redirectscheme': {
      for (const [option, given] of options) {
        if (option === 'scheme' && given.value.trim().toLowerCase() === 'https') redirect = true;
        else if (option !== 'permanent') skip(given, option === 'scheme' ? `berth redirects to https only, not ${given.value}` : undefined);
      }
      break;
    }
    case 'compress': {
      for (const [option, given] of options) {
        if (option === '') put('compress', given, parseBooleanWord(given.value) === false ? 'false' : 'true');
        else { skip(given); put('compress', given, 'true'); }
      }
      break;
    }
    case 'ratelimit': {
      for (const [option, given] of options) if (!['average', 'burst', 'period'].includes(option)) skip(given, option.startsWith('sourcecriterion') ? 'berth limits per client address (IPv6 per /64) only' : undefined);
      const average = options.get('average');
      if (!average) break;
      const count = Number(average.value.trim());
      if (count === 0) break; // Traefik: no limit.
      const period = seconds(options.get('period')?.value ?? '1s');
      const rate = period === undefined || !Number.isSafeInteger(count) || count < 0 ? undefined : perUnit(count, period);
      if (rate === undefined) {
        problems.push({ code: Codes.compatMiddleware, label: average.label, message: `average ${average.value} per ${options.get('period')?.value ?? '1s'} is not a whole number of requests per second, minute or hour; the route is not limited`, fix: 'pick an average and a period that give one' });
        break;
      }
      put('rate-limit', average, rate);
      // Traefik's burst defaults to 1.
      const burst = options.get('burst');
      put('rate-limit.burst', burst ?? average, burst ? burst.value.trim() : '1');
      break;
    }
    default: {
      if (SKIPPABLE.has(type)) {
        problems.push({ code: Codes.compatUnsupported, label: middleware.label, message: `berth does not do the ${type} middleware ("${name}"); routes are served without it`, fix: UNSUPPORTED_FIX });
      } else {
        close({ label: middleware.label, value: '' }, `berth cannot do the ${type} middleware ("${name}"), which may decide who gets in`);
      }
    }
  }
  return { closed, redirect };
}

/** A Traefik duration (`1s`, `1m`, `90s`, or bare seconds) in seconds. */
function seconds(raw: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!match) return undefined;
  const factor = { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] ?? 's']!;
  const value = Number(match[1]) * factor;
  return value > 0 ? value : undefined;
}

/** `count` per `period` seconds as berth's N/s, N/m or N/h with a whole N. */
function perUnit(count: number, period: number): string | undefined {
  for (const [unit, length] of [['s', 1], ['m', 60], ['h', 3600]] as const) {
    const n = (count * length) / period;
    if (Number.isInteger(n) && n >= 1) return `${n}/${unit}`;
  }
  return undefined;
}

function set(keys: Map<string, string>, origin: Map<string, string>, key: string, value: string, label: string): void {
  keys.set(key, value);
  origin.set(key, label);
}

