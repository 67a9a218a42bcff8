// nginx-proxy's environment variables read as berth's own keys: VIRTUAL_HOST (comma separated,
// wildcards), VIRTUAL_PORT, VIRTUAL_PROTO, VIRTUAL_PATH with VIRTUAL_DEST, LETSENCRYPT_HOST /
// ACME_HOST (HTTPS with an order) and HTTPS_METHOD. Pure: the environment comes from an inspect.
import { Codes } from '../../errors.js';
import type { Problem } from '../../routes/types.js';
import type { CompatTranslation } from './traefik.js';

const NONE: CompatTranslation = { present: false, keys: new Map(), origin: new Map(), closed: [], routers: false, problems: [] };

export function translateNginxProxy(env: Readonly<Record<string, string>>): CompatTranslation {
  const hosts = env['VIRTUAL_HOST']?.trim();
  if (!hosts) return NONE;
  const keys = new Map<string, string>();
  const origin = new Map<string, string>();
  const problems: Problem[] = [];
  const set = (key: string, value: string, variable: string) => {
    keys.set(key, value);
    origin.set(key, `env ${variable}`);
  };
  const unsupported = (variable: string, message: string, fix: string) => problems.push({ code: Codes.compatUnsupported, label: `env ${variable}`, message, fix });

  const names = hosts.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const regexes = names.filter((name) => name.startsWith('~'));
  if (regexes.length > 0) unsupported('VIRTUAL_HOST', `regular-expression hosts (${regexes.join(', ')}) are not supported`, 'list exact names or *.wildcards');
  const plain = names.filter((name) => !name.startsWith('~'));
  if (plain.length === 0) return { present: true, keys, origin, closed: [], routers: false, problems };
  set('host', plain.join(','), 'VIRTUAL_HOST');
  if (env['VIRTUAL_PORT']) set('port', env['VIRTUAL_PORT'].trim(), 'VIRTUAL_PORT');

  const proto = env['VIRTUAL_PROTO']?.trim().toLowerCase();
  if (proto === 'http' || proto === 'https') set('scheme', proto, 'VIRTUAL_PROTO');
  else if (proto) unsupported('VIRTUAL_PROTO', `VIRTUAL_PROTO=${proto} is not supported (only http and https)`, 'serve HTTP or HTTPS from the container');

  const path = env['VIRTUAL_PATH']?.trim();
  if (path) set('path', path, 'VIRTUAL_PATH');
  const dest = env['VIRTUAL_DEST']?.trim();
  // nginx-proxy forwards the path as it came, or with VIRTUAL_PATH replaced by VIRTUAL_DEST: "/" is berth's strip-prefix.
  if (dest === '/' && path) set('strip-prefix', 'true', 'VIRTUAL_DEST');
  else if (dest && dest !== path) unsupported('VIRTUAL_DEST', `VIRTUAL_DEST=${dest} is not supported (only "/", which strips VIRTUAL_PATH)`, 'use VIRTUAL_DEST=/ or none');

  const certificateHosts = (env['LETSENCRYPT_HOST'] ?? env['ACME_HOST'])?.trim();
  const method = env['HTTPS_METHOD']?.trim().toLowerCase() ?? 'redirect';
  if (certificateHosts) {
    set('tls', 'true', env['LETSENCRYPT_HOST'] ? 'LETSENCRYPT_HOST' : 'ACME_HOST');
    const listed = new Set(plain.map((name) => name.toLowerCase()));
    const others = certificateHosts.split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== '' && !listed.has(name));
    if (others.length > 0) unsupported(env['LETSENCRYPT_HOST'] ? 'LETSENCRYPT_HOST' : 'ACME_HOST', `certificates are ordered for the routed hosts only, not ${others.join(', ')}`, 'list the same names in VIRTUAL_HOST');
  }
  if (method === 'noredirect') set('tls.redirect', 'false', 'HTTPS_METHOD');
  else if (method === 'nohttps') set('tls', 'false', 'HTTPS_METHOD');
  else if (method !== 'redirect' && method !== 'nohttp') unsupported('HTTPS_METHOD', `HTTPS_METHOD=${method} is not supported`, 'use redirect, noredirect, nohttp or nohttps');
  return { present: true, keys, origin, closed: [], routers: false, problems };
}
