// Bearer tokens for the admin API, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';

/** Whether an Authorization header carries the token. Hashing first makes lengths equal. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  const given = createHash('sha256').update(match?.[1]?.trim() ?? '').digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && match !== null;
}
