// Every setting, declared once: flag, environment variable, default and help.
import { ENCODED_CHARS, parseEncodedChars, type EncodedChar } from '../proxy/target.js';
import { DEFAULT_DOCKER_HOST, parseDockerHost, type DockerAddress } from '../docker/address.js';
import { parseConstraintList } from '../docker/constraints.js';
import { COMPAT_READERS, type CompatReader } from '../docker/compat/index.js';
import { parseAddressList } from './cidr.js';
import { parseBoolean, parseCount, parseDuration, parseFraction, parseListenAddress, parseOneOf, parsePort, parseText, type Parsed } from './values.js';

interface Setting<T, Optional extends boolean = false> {
  /** Without the leading dashes; the env var is BERTH_ + this in upper snake case. */
  readonly flag: string;
  readonly help: string;
  /** The default as a user would type it, or null for "unset". */
  readonly default: (env: NodeJS.ProcessEnv) => string | null;
  readonly parse: (raw: string) => Parsed<T>;
  /** Boolean settings may be given as a bare flag. */
  readonly boolean?: true;
  /** Unset by default: the value is then null. */
  readonly optional?: Optional;
  /** May be given more than once; the values are joined with ";" before parsing. */
  readonly repeatable?: true;
}

const setting = <T, Optional extends boolean = false>(s: Setting<T, Optional>): Setting<T, Optional> => s;
const fixed = (value: string | null) => () => value;

function parseDockerAddress(raw: string): Parsed<{ url: string; address: DockerAddress }> {
  const address = parseDockerHost(raw);
  return address ? { ok: true, value: { url: raw, address } } : { ok: false, problem: `"${raw}" is not unix:///path or tcp://host:port` };
}

function parseLabelPrefix(raw: string): Parsed<string> {
  return /^[a-z0-9][a-z0-9._-]*$/i.test(raw) && !raw.endsWith('.') ? { ok: true, value: raw } : { ok: false, problem: `"${raw}" is not a label prefix (letters, digits, ".", "-", "_")` };
}

function parseDomain(raw: string): Parsed<string> {
  const domain = raw.trim().toLowerCase().replace(/^\.+|\.+$/g, '');
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain) ? { ok: true, value: domain } : { ok: false, problem: `"${raw}" is not a domain name` };
}

function parseEncodedSet(raw: string): Parsed<ReadonlySet<EncodedChar>> {
  const parsed = parseEncodedChars(raw);
  return parsed.ok ? { ok: true, value: new Set(parsed.value) } : { ok: false, problem: `"${parsed.unknown.join(', ')}" is not one of ${ENCODED_CHARS.join(', ')}` };
}

function parseCompat(raw: string): Parsed<readonly CompatReader[]> {
  const names = raw.split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== '');
  const unknown = names.filter((name) => !Object.hasOwn(COMPAT_READERS, name));
  if (unknown.length > 0) return { ok: false, problem: `"${unknown.join(', ')}" is not one of ${Object.keys(COMPAT_READERS).join(', ')}` };
  return { ok: true, value: [...new Set(names)] as CompatReader[] };
}

/** `redis://[user:pass@]host:port[/db]` (or `rediss://` for TLS); the password stays out of messages. */
function parseRedisUrl(raw: string): Parsed<StoreAddress> {
  const url = urlOf(raw);
  const db = url?.pathname.replace(/^\//, '') ?? '';
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || !url.hostname || !/^\d*$/.test(db) || url.search || url.hash) {
    return { ok: false, problem: `"${url ? shownUrl(url) : '(not a URL)'}" is not redis://[user:pass@]host:port[/db]` };
  }
  return { ok: true, value: { url: raw, shown: shownUrl(url) } };
}

function parseEtcdUrl(raw: string): Parsed<StoreAddress> {
  const url = urlOf(raw);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname || url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    return { ok: false, problem: `"${url ? shownUrl(url) : '(not a URL)'}" is not http(s)://host:port (user and password go in --etcd-user and --etcd-password)` };
  }
  return { ok: true, value: { url: `${url.protocol}//${url.host}`, shown: `${url.protocol}//${url.host}` } };
}

/** A store's address as given, and as logs and the admin API show it (without a password). */
export interface StoreAddress {
  readonly url: string;
  readonly shown: string;
}

function urlOf(raw: string): URL | undefined {
  try {
    return new URL(raw.trim());
  } catch {
    return undefined;
  }
}

function shownUrl(url: URL): string {
  const shown = new URL(url.href);
  if (shown.password) shown.password = '***';
  return shown.href;
}

function parseSwarmMode(raw: string): Parsed<'auto' | 'on' | 'off'> {
  if (raw.trim().toLowerCase() === 'auto') return { ok: true, value: 'auto' };
  const on = parseBoolean(raw);
  return on.ok ? { ok: true, value: on.value ? 'on' : 'off' } : { ok: false, problem: `"${raw}" is not auto, true or false` };
}

/** A folder, or a Redis URL (redis:// or rediss://) read as --redis reads one. */
function parseAcmeStorage(raw: string): Parsed<string> {
  if (!/^rediss?:\/\//i.test(raw.trim())) return parseText(raw);
  const redis = parseRedisUrl(raw);
  return redis.ok ? { ok: true, value: raw.trim() } : redis;
}

const CHALLENGES = ['http-01', 'tls-alpn-01'] as const;

function parseChallenges(raw: string): Parsed<ReadonlyArray<(typeof CHALLENGES)[number]>> {
  const names = raw.split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== '');
  const unknown = names.filter((name) => !(CHALLENGES as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) return { ok: false, problem: `"${raw}" is not a list of ${CHALLENGES.join(', ')}` };
  return { ok: true, value: [...new Set(names)] as Array<(typeof CHALLENGES)[number]> };
}

export const settings = {
  httpPort: setting({ flag: 'http-port', help: 'port the proxy listens on (all interfaces)', default: fixed('80'), parse: parsePort }),
  httpsPort: setting({ flag: 'https-port', help: 'port of the HTTPS listener (HTTP/2 and HTTP/1.1); unset: no HTTPS', default: fixed(null), parse: parsePort, optional: true }),
  certsDir: setting({ flag: 'certs-dir', help: 'folder of PEM certificates (*.crt or *.pem) with keys of the same name (*.key), served by SNI (watched)', default: fixed(null), parse: parseText, optional: true }),
  tlsDefault: setting({
    flag: 'tls-default',
    help: 'every route is HTTPS unless it says tls=false',
    default: fixed('false'),
    parse: parseBoolean,
    boolean: true,
  }),
  acmeEmail: setting({ flag: 'acme-email', help: 'contact of the ACME account; set it to order certificates for HTTPS routes', default: fixed(null), parse: parseText, optional: true }),
  acmeCa: setting({ flag: 'acme-ca', help: 'ACME directory URL; "staging" for Let\'s Encrypt\'s staging', default: fixed('https://acme-v02.api.letsencrypt.org/directory'), parse: parseText }),
  acmeChallenges: setting({
    flag: 'acme-challenges',
    help: 'ACME challenge types in the order berth offers them: http-01 (on the HTTP port), tls-alpn-01 (on the HTTPS port)',
    default: fixed('http-01,tls-alpn-01'),
    parse: parseChallenges,
  }),
  acmeStorage: setting({
    flag: 'acme-storage',
    help: 'folder for the ACME account, certificates and the default certificate (files 0600), or redis://[user:pass@]host:port[/db] shared by replicas',
    default: fixed('berth-data'),
    parse: parseAcmeStorage,
  }),
  adminAddr: setting({ flag: 'admin-addr', help: 'address of the admin API (health, routes, containers)', default: fixed('127.0.0.1:8081'), parse: parseListenAddress }),
  adminToken: setting({
    flag: 'admin-token',
    help: 'bearer token the admin API requires (required when --admin-addr is not loopback; prefer the environment variable)',
    default: fixed(null),
    parse: parseText,
    optional: true,
  }),
  accessLog: setting({ flag: 'access-log', help: 'log one line per request', default: fixed('true'), parse: parseBoolean, boolean: true }),
  accessLogSample: setting({ flag: 'access-log-sample', help: 'share of requests the access log records, from 0 to 1', default: fixed('1'), parse: parseFraction }),
  dockerHost: setting({
    flag: 'docker-host',
    help: 'Docker Engine API address',
    default: (env) => env['DOCKER_HOST'] || DEFAULT_DOCKER_HOST,
    parse: parseDockerAddress,
  }),
  docker: setting({
    flag: 'docker',
    help: 'follow the Docker engine; --no-docker serves the routes file and the stores alone',
    default: fixed('true'),
    parse: parseBoolean,
    boolean: true,
  }),
  swarm: setting({
    flag: 'swarm',
    help: 'follow swarm services: auto when the engine is a swarm manager; true also reports when it is not; false never',
    default: fixed('auto'),
    parse: parseSwarmMode,
    boolean: true,
  }),
  swarmPoll: setting({ flag: 'swarm-poll', help: 'how often the swarm\'s tasks are listed (they have no events), besides service events', default: fixed('2s'), parse: parseDuration }),
  routesFile: setting({ flag: 'routes-file', help: 'YAML or JSON file of routes beside the containers (watched)', default: fixed(null), parse: parseText, optional: true }),
  redis: setting({ flag: 'redis', help: 'follow routes kept in Redis (Hipache\'s frontend:<host> lists, berth:route:<name> entries): redis://[user:pass@]host:port[/db]', default: fixed(null), parse: parseRedisUrl, optional: true }),
  etcd: setting({ flag: 'etcd', help: 'follow routes kept in etcd v3 (/hosts/<host>/<ip:port>, /berth/routes/<name>): http(s)://host:port', default: fixed(null), parse: parseEtcdUrl, optional: true }),
  etcdUser: setting({ flag: 'etcd-user', help: 'etcd user name, when etcd has authentication on', default: fixed(null), parse: parseText, optional: true }),
  etcdPassword: setting({ flag: 'etcd-password', help: 'password of --etcd-user (prefer the environment variable)', default: fixed(null), parse: parseText, optional: true }),
  etcdCa: setting({ flag: 'etcd-ca', help: 'PEM file of the CA that signed etcd\'s certificate (https:// only); unset: Node\'s bundled roots', default: fixed(null), parse: parseText, optional: true }),
  workers: setting({ flag: 'workers', help: 'processes serving traffic (node:cluster); the primary alone talks to Docker', default: fixed('1'), parse: parseCount }),
  domain: setting({ flag: 'domain', help: 'route every container at <name>.<domain> (name routing)', default: fixed(null), parse: parseDomain, optional: true }),
  labelPrefix: setting({ flag: 'label-prefix', help: 'prefix of the labels berth reads', default: fixed('berth'), parse: parseLabelPrefix }),
  exposedByDefault: setting({
    flag: 'exposed-by-default',
    help: 'name routing covers every container unless <prefix>.enable=false; false: only those with <prefix>.enable=true',
    default: fixed('true'),
    parse: parseBoolean,
    boolean: true,
  }),
  compat: setting({
    flag: 'compat',
    help: 'also read these tools\' labels on containers without berth labels, comma-separated: traefik',
    default: fixed(''),
    parse: parseCompat,
  }),
  constraint: setting({
    flag: 'constraint',
    help: 'watch only containers with this label (label=<key>) or label value (label=<key>=<value>); repeatable, all must hold; the variable takes them ";"-separated',
    default: fixed(''),
    parse: parseConstraintList,
    repeatable: true,
  }),
  network: setting({ flag: 'network', help: 'network to reach containers on when berth runs outside Docker and they have several', default: fixed(null), parse: parseText, optional: true }),
  trustedProxies: setting({
    flag: 'trusted-proxies',
    help: 'comma-separated IPs or CIDR ranges whose X-Forwarded-* headers are trusted',
    default: fixed(''),
    parse: parseAddressList,
  }),
  logLevel: setting({ flag: 'log-level', help: 'trace, debug, info, warn, error or fatal', default: fixed('info'), parse: parseOneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) }),
  resyncInterval: setting({ flag: 'resync-interval', help: 'full re-list of containers, besides events', default: fixed('30s'), parse: parseDuration }),
  connectTimeout: setting({ flag: 'connect-timeout', help: 'longest wait for an upstream to accept a connection before 504 (or another endpoint)', default: fixed('5s'), parse: parseDuration }),
  upstreamTimeout: setting({ flag: 'upstream-timeout', help: 'longest silence from a connected upstream (response head, then body) before 504', default: fixed('60s'), parse: parseDuration }),
  headerTimeout: setting({ flag: 'header-timeout', help: 'longest time a client may take to send request headers', default: fixed('15s'), parse: parseDuration }),
  requestTimeout: setting({ flag: 'request-timeout', help: 'longest time a client may take to send a whole request, body included', default: fixed('5m'), parse: parseDuration }),
  idleTimeout: setting({ flag: 'idle-timeout', help: 'how long an idle client keep-alive connection stays open', default: fixed('60s'), parse: parseDuration }),
  websocketIdleTimeout: setting({ flag: 'websocket-idle-timeout', help: 'a WebSocket with no traffic either way for this long is closed', default: fixed('10m'), parse: parseDuration }),
  allowEncoded: setting({
    flag: 'allow-encoded',
    help: 'encoded characters a path may hold on every route (slash = %2F, backslash = %5C, nul = %00), comma-separated; others get 400',
    default: fixed(''),
    parse: parseEncodedSet,
  }),
  keepUnderscoreHeaders: setting({
    flag: 'keep-underscore-headers',
    help: 'forward request header names that hold "_" (dropped by default: CGI servers read X_Forwarded_For as X-Forwarded-For)',
    default: fixed('false'),
    parse: parseBoolean,
    boolean: true,
  }),
  shutdownTimeout: setting({ flag: 'shutdown-timeout', help: 'how long in-flight requests may take to finish on SIGTERM', default: fixed('10s'), parse: parseDuration }),
} as const;

type Settings = typeof settings;
type ValueOf<S> = S extends Setting<infer T, infer Optional> ? (Optional extends true ? T | null : T) : never;

export type Config = { readonly [K in keyof Settings]: ValueOf<Settings[K]> };

export function envName(flag: string): string {
  return 'BERTH_' + flag.toUpperCase().replace(/-/g, '_');
}

