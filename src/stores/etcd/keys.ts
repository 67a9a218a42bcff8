// etcd keys -> route specs, pure. The layout of the Go proxies among berth's ancestors:
// `/hosts/<host>/<ip:port>` (the value is not read), one endpoint per key, round robin over a
// host's keys; and berth's own `/berth/routes/<name>` holding one routes-file entry.
import { Codes } from '../../errors.js';
import { parseRouteEntry } from '../../file/parse.js';
import { parseHostPattern } from '../../routes/host.js';
import type { EntryReading } from '../entries.js';

export const HOSTS_PREFIX = '/hosts/';
export const ROUTES_PREFIX = '/berth/routes/';
export const ETCD_PREFIXES = [HOSTS_PREFIX, ROUTES_PREFIX] as const;

const STORE = 'etcd';

export function readEtcdKey(key: string, value: string): EntryReading {
  if (key.startsWith(ROUTES_PREFIX)) return parseRouteEntry(value, `etcd ${key}`, STORE);
  return readHostKey(key);
}

/** `/hosts/<host>/<ip:port>`: one endpoint of the host's route at `/`. */
export function readHostKey(key: string): EntryReading {
  const rest = key.slice(HOSTS_PREFIX.length);
  const slash = rest.indexOf('/');
  const name = slash === -1 ? rest : rest.slice(0, slash);
  const upstream = slash === -1 ? '' : rest.slice(slash + 1);
  const host = parseHostPattern(name);
  if (host === undefined) return problem(Codes.storeKey, `${key}: "${name}" is not a hostname`, 'name it /hosts/<host>/<ip:port>, like /hosts/www.example.com/10.0.0.5:8080');
  const address = addressOf(upstream);
  if (!address) return problem(Codes.storeBackend, `${key}: "${upstream}" is not <ip:port>`, 'end the key with the upstream\'s address and port, like 10.0.0.5:8080 or [fd00::5]:8080');
  const origin = `etcd ${key}`;
  return {
    specs: [
      {
        host,
        path: '/',
        source: STORE,
        endpoint: { key: origin, scheme: 'http', address: address.host, port: address.port, ready: true, stripPrefix: false, origin, basePath: '', upstreamHost: false, verifyTls: true },
      },
    ],
    problems: [],
  };
}

/** `10.0.0.5:8080`, `[fd00::5]:8080` or `name:8080`. */
function addressOf(text: string): { host: string; port: number } | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

function problem(code: string, message: string, fix: string): EntryReading {
  return { specs: [], problems: [{ code, message, fix }] };
}
