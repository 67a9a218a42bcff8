// The request target and host that routing decides on; pure. A request whose host or path
// could be read two ways is refused, so berth and the upstream never disagree about it.
import { normalizeRequestHost } from '../routes/host.js';
import { canonicalTarget } from '../routes/path.js';

export const MAX_TARGET_LENGTH = 8192;

export type RequestTarget = { ok: true; host: string; path: string; query: string } | { ok: false; status: 400 | 414; detail: string };

/**
 * @param url the request target as received (origin-form, or absolute-form from a client that
 *   thinks it talks to a forward proxy)
 * @param hostHeaders every Host header the request carried
 */
export function requestTarget(url: string, hostHeaders: readonly string[]): RequestTarget {
  if (url.length > MAX_TARGET_LENGTH) return { ok: false, status: 414, detail: 'The request target is too long.' };
  if (hostHeaders.length > 1) return { ok: false, status: 400, detail: 'The request has more than one Host header.' };
  let host = normalizeRequestHost(hostHeaders[0]);
  let target = url;
  const absolute = /^https?:\/\/([^/?#]*)(.*)$/i.exec(url);
  if (absolute) {
    const authority = normalizeRequestHost(absolute[1]!.replace(/^.*@/, ''));
    if (hostHeaders.length === 1 && authority !== host) {
      return { ok: false, status: 400, detail: 'The request target names another host than the Host header.' };
    }
    host = authority;
    target = absolute[2]!.startsWith('/') ? absolute[2]! : '/' + absolute[2]!;
  }
  const canonical = canonicalTarget(target);
  if (!canonical) return { ok: false, status: 400, detail: 'The request target is not a valid path.' };
  return { ok: true, host, ...canonical };
}

/** The Host header values of a request, from its raw headers (Node keeps only the first). */
export function hostHeaderValues(rawHeaders: readonly string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length === 4 && rawHeaders[i]!.toLowerCase() === 'host') values.push(rawHeaders[i + 1]!);
  }
  return values;
}
