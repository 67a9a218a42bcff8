// Path prefixes match on segment boundaries: `/api` matches `/api` and `/api/x`, never `/apix`.

/** Validates a configured prefix and returns its stored form (no trailing slash but `/`). */
export function parsePathPrefix(value: string): string | undefined {
  const path = value.trim();
  if (!path.startsWith('/') || /[\s?#%\\]/.test(path)) return undefined;
  const segments = path.split('/').slice(1);
  if (segments.some((s) => s === '.' || s === '..')) return undefined;
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

export function matchesPrefix(path: string, prefix: string): boolean {
  if (prefix === '/') return true;
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || path.charCodeAt(prefix.length) === 0x2f;
}

/** The request target with the prefix removed; the query string is kept. */
export function stripPathPrefix(target: string, prefix: string): string {
  if (prefix === '/') return target;
  const rest = target.slice(prefix.length);
  return rest.startsWith('/') ? rest : '/' + rest;
}

/**
 * Splits an origin-form request target into a canonical path and the rest (`?query`).
 * Runs of slashes are merged and dot segments, also percent-encoded ones, resolved (as nginx
 * does), so that the path routed on is the path forwarded. Returns undefined for a target that
 * is not origin-form or climbs above the root.
 */
export function canonicalTarget(target: string): { path: string; query: string } | undefined {
  if (!target.startsWith('/')) return undefined;
  const q = target.indexOf('?');
  const query = q === -1 ? '' : target.slice(q);
  let rawPath = q === -1 ? target : target.slice(0, q);
  if (rawPath.includes('//')) rawPath = rawPath.replace(/\/{2,}/g, '/');
  if (!/\.|%2e/i.test(rawPath)) return { path: rawPath, query };
  const out: string[] = [];
  const segments = rawPath.split('/').slice(1);
  for (const [i, raw] of segments.entries()) {
    const segment = raw.replace(/%2e/gi, '.');
    const last = i === segments.length - 1;
    if (segment === '.') {
      if (last) out.push('');
    } else if (segment === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      if (last) out.push('');
    } else {
      out.push(raw);
    }
  }
  return { path: '/' + out.join('/'), query };
}
