// Response compression for routes that ask for it: brotli or gzip by the client's Accept-Encoding,
// for text-like bodies worth it. Never for a body already encoded, a range, an event stream (it
// must flow as written), a HEAD answer or a status without a body.
import zlib from 'node:zlib';
import type { Transform } from 'node:stream';

const COMPRESSIBLE = /^(text\/|application\/(json|javascript|xml|xhtml\+xml|rss\+xml|atom\+xml|ld\+json|manifest\+json|wasm)|image\/svg\+xml)/i;
const MIN_BYTES = 1024;

export type Encoding = 'br' | 'gzip';

/** The encoding to use for this response, or null to send it as it is. Pure. */
export function chooseEncoding(
  acceptEncoding: string | undefined,
  method: string,
  status: number,
  headers: {
    readonly contentType: string | undefined;
    readonly contentEncoding: string | undefined;
    readonly contentLength: string | undefined;
    readonly contentRange: string | undefined;
    readonly cacheControl?: string | undefined;
  },
): Encoding | null {
  if (method === 'HEAD' || status < 200 || status === 204 || status === 206 || status === 304) return null;
  // RFC 9110 7.7: an intermediary must not change the coding of a no-transform response.
  if (headers.cacheControl && /no-transform/i.test(headers.cacheControl)) return null;
  if (headers.contentEncoding !== undefined || headers.contentRange !== undefined) return null;
  if (!headers.contentType || !COMPRESSIBLE.test(headers.contentType) || /text\/event-stream/i.test(headers.contentType)) return null;
  if (headers.contentLength !== undefined && Number(headers.contentLength) < MIN_BYTES) return null;
  const accepted = acceptedEncodings(acceptEncoding ?? '');
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip')) return 'gzip';
  return null;
}

/** The codings a client accepts (q=0 refuses one). */
function acceptedEncodings(header: string): Set<string> {
  const accepted = new Set<string>();
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((param) => /^\s*q=([\d.]+)\s*$/.exec(param)?.[1]).find((value) => value !== undefined);
    if (name !== '' && (q === undefined || Number(q) > 0)) accepted.add(name.trim());
  }
  return accepted;
}

/**
 * A compressor for the encoding; brotli at a quality that keeps up with a proxy's pace. `length`,
 * the body's Content-Length when it has one, is brotli's size hint: its ring buffer is sized to the
 * body rather than to its 4 MiB window (the output is the same).
 */
export function compressor(encoding: Encoding, length: number | null = null): Transform {
  const { BROTLI_PARAM_QUALITY, BROTLI_PARAM_SIZE_HINT } = zlib.constants;
  const hint = length !== null && Number.isSafeInteger(length) && length > 0 && length < 2 ** 31 ? { [BROTLI_PARAM_SIZE_HINT]: length } : {};
  // Flushed at every write: a streamed answer (chunks of JSON, a log) must not wait for a full window.
  return encoding === 'br'
    ? zlib.createBrotliCompress({ flush: zlib.constants.BROTLI_OPERATION_FLUSH, params: { [BROTLI_PARAM_QUALITY]: 4, ...hint } })
    : zlib.createGzip({ level: 5, flush: zlib.constants.Z_SYNC_FLUSH });
}
