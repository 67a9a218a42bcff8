// Upstream failures -> status codes and whether another endpoint may be tried.
import { Codes } from '../errors.js';

export interface UpstreamFailure {
  readonly code: string;
  readonly status: 502 | 504;
  /** True when the upstream cannot have started on the request, so replaying it is safe. */
  readonly neverReached: boolean;
}

export const UPSTREAM_TIMEOUT = 'BERTH_UPSTREAM_TIMEOUT';
export const CONNECT_TIMEOUT = 'BERTH_CONNECT_TIMEOUT';
export const UNASKED_UPGRADE = 'BERTH_UNASKED_UPGRADE';

const NEVER_REACHED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

export function classifyUpstreamError(error: unknown): UpstreamFailure {
  const code = (error as { code?: unknown } | null)?.code;
  // Not connected, so the upstream never saw a byte: another endpoint may take it.
  if (code === CONNECT_TIMEOUT) return { code: Codes.upstreamConnectTimeout, status: 504, neverReached: true };
  if (code === UPSTREAM_TIMEOUT || code === 'ETIMEDOUT') return { code: Codes.upstreamTimeout, status: 504, neverReached: false };
  if (typeof code === 'string' && NEVER_REACHED.has(code)) return { code: Codes.upstreamRefused, status: 502, neverReached: true };
  if (typeof code === 'string' && RESET.has(code)) return { code: Codes.upstreamReset, status: 502, neverReached: false };
  return { code: Codes.upstreamOther, status: 502, neverReached: false };
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/**
 * Whether a failed request may be sent again to another endpoint: it carried no body, and
 * either never reached the upstream or is idempotent (a reused keep-alive connection that was
 * reset under it).
 */
export function mayRetry(method: string, hasBody: boolean, failure: UpstreamFailure): boolean {
  if (hasBody) return false;
  if (failure.neverReached) return true;
  return failure.status !== 504 && IDEMPOTENT.has(method);
}
