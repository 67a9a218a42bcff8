// The `berth_sticky` cookie: which endpoint a client was pinned to, and the Set-Cookie that pins it.
// Pure: the routing decision reads the Cookie header and names the Set-Cookie; the server writes it.
import type { Pool } from '../routes/table.js';
import type { Endpoint } from '../routes/types.js';

export const STICKY_COOKIE = 'berth_sticky';

/** Every `berth_sticky` value in the Cookie header(s), in order (the most specific path comes first, RFC 6265 5.4). */
export function stickyValues(cookie: string | readonly string[] | undefined): string[] {
  if (cookie === undefined) return [];
  const values: string[] = [];
  for (const line of typeof cookie === 'string' ? [cookie] : cookie) {
    for (const pair of line.split(';')) {
      const eq = pair.indexOf('=');
      if (eq !== -1 && pair.slice(0, eq).trim() === STICKY_COOKIE) values.push(pair.slice(eq + 1).trim());
    }
  }
  return values;
}

/** The first value that names a ready endpoint of the pool (a cookie of another route on the same host is skipped). */
export function stickyIdFor(pool: Pool, cookie: string | readonly string[] | undefined): string | undefined {
  if (!pool.sticky || cookie === undefined) return undefined;
  return stickyValues(cookie).find((id) => pool.byStickyId(id) !== undefined);
}

// A pool path is a routed prefix; one holding what a cookie attribute cannot is pinned on /.
const COOKIE_PATH = /^\/[\x21-\x3a\x3c-\x7e]*$/;

/**
 * The Set-Cookie value that pins the client to `endpoint`, or null when the route is not sticky or
 * the client already sent that id. A session cookie, for the route's path only.
 */
export function stickyCookie(pool: Pool, endpoint: Endpoint, sentId: string | undefined, encrypted: boolean): string | null {
  if (!pool.sticky) return null;
  const id = pool.stickyIdOf(endpoint);
  if (id === sentId) return null;
  const path = COOKIE_PATH.test(pool.path) ? pool.path : '/';
  return `${STICKY_COOKIE}=${id}; Path=${path}; HttpOnly; SameSite=Lax${encrypted ? '; Secure' : ''}`;
}
