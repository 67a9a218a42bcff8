// The request target and host that routing decides on; pure. A request whose host or path
// could be read two ways is refused, so berth and the upstream never disagree about it.
import { Codes } from '../errors.js';
import { normalizeRequestHost } from '../routes/host.js';
import { canonicalTarget } from '../routes/path.js';

export const MAX_TARGET_LENGTH = 8192;

export type RequestTarget = { ok: true; host: string; path: string; query: string } | { ok: false; status: 400 | 414; code: string; detail: string };

// A host berth can route: an IP literal, or dot-separated labels (no empty one, an optional
// trailing dot), then an optional port. RFC 3986 allows more (`,;!$&'()*+=`, pct-encoding), but a
// Host like `evil.example,a.site.test` is one name to berth and another to the app that splits it.
const HOST_VALUE = /^(?:|\[[0-9a-f:.]+\]|[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?)(?::\d*)?$/i;
// Neither may appear in a request-target (RFC 9112 3.2): WHATWG URL parsers read `\` as `/`.
const FORBIDDEN_IN_TARGET = /[\\#]/;
// `..;/` and `.;/`: Tomcat, Jetty and older Spring drop the `;...` and then climb, out of the route.
const MATRIX_DOT_SEGMENT = /\/(?:\.|%2e){1,2};/i;
const ABSOLUTE_FORM = /^https?:\/\/([^/?]*)(.*)$/i;

const refuse = (status: 400 | 414, code: string, detail: string): RequestTarget => ({ ok: false, status, code, detail });

/**
 * @param url the request target as received (origin-form, or absolute-form from a client that
 *   thinks it talks to a forward proxy)
 * @param hostHeaders every Host header the request carried
 */
export function requestTarget(url: string, hostHeaders: readonly string[]): RequestTarget {
  if (url.length > MAX_TARGET_LENGTH) return refuse(414, Codes.requestTarget, 'The request target is too long.');
  if (hostHeaders.length > 1) return refuse(400, Codes.requestHost, 'The request has more than one Host header.');
  if (hostHeaders.length === 1 && !HOST_VALUE.test(hostHeaders[0]!.trim())) return refuse(400, Codes.requestHost, 'The Host header is not a host with an optional port.');
  if (FORBIDDEN_IN_TARGET.test(url)) return refuse(400, Codes.requestTarget, 'The request target holds a backslash or a fragment.');
  // Most targets hold no `;` and start with `/`: the two patterns that need them are skipped then.
  if (url.includes(';') && MATRIX_DOT_SEGMENT.test(url.split('?')[0]!)) return refuse(400, Codes.requestTarget, 'The request target holds a dot segment with parameters (..;).');
  let host = normalizeRequestHost(hostHeaders[0]);
  let target = url;
  const absolute = url.charCodeAt(0) === 0x2f ? null : ABSOLUTE_FORM.exec(url);
  if (absolute) {
    if (!HOST_VALUE.test(absolute[1]!)) return refuse(400, Codes.requestHost, 'The request target names no valid host.');
    const authority = normalizeRequestHost(absolute[1]!);
    if (hostHeaders.length === 1 && authority !== host) {
      return refuse(400, Codes.requestHost, 'The request target names another host than the Host header.');
    }
    host = authority;
    target = absolute[2]!.startsWith('/') ? absolute[2]! : '/' + absolute[2]!;
  }
  const canonical = canonicalTarget(target);
  if (!canonical) return refuse(400, Codes.requestTarget, 'The request target is not a valid path.');
  return { ok: true, host, ...canonical };
}

/** Percent-encoded characters a path may hold only where a route allows them. */
export type EncodedChar = 'slash' | 'backslash' | 'nul';
export const ENCODED_CHARS: readonly EncodedChar[] = ['slash', 'backslash', 'nul'];

/** Reads `slash,backslash` (any case, any spacing): the characters, or the words it does not know. */
export function parseEncodedChars(raw: string): { ok: true; value: EncodedChar[] } | { ok: false; unknown: string[] } {
  const names = raw.split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== '');
  const unknown = names.filter((name) => !(ENCODED_CHARS as readonly string[]).includes(name));
  return unknown.length > 0 ? { ok: false, unknown } : { ok: true, value: [...new Set(names as EncodedChar[])] };
}

const ENCODINGS: Record<EncodedChar, RegExp> = { slash: /%2f/i, backslash: /%5c/i, nul: /%00/ };

/**
 * The first encoded character of the path that is not allowed, or null. Each one lets an
 * upstream that decodes before routing see other segments than berth did (a split view).
 */
export function forbiddenEncoding(path: string, allowed: ReadonlySet<EncodedChar>): EncodedChar | null {
  if (!path.includes('%')) return null;
  for (const char of ENCODED_CHARS) if (!allowed.has(char) && ENCODINGS[char].test(path)) return char;
  return null;
}

/** The Host header values of a request, from its raw headers (Node keeps only the first). */
export function hostHeaderValues(rawHeaders: readonly string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length === 4 && rawHeaders[i]!.toLowerCase() === 'host') values.push(rawHeaders[i + 1]!);
  }
  return values;
}
