// htpasswd hashes as Apache's htpasswd, nginx and Traefik read them: bcrypt ($2y$, $2a$, $2b$),
// apr1 (Apache's MD5-crypt) and {SHA} (base64 SHA-1, unsalted). Crypt(3) DES and plain text are
// not accepted: DES keeps 8 characters of a password, plain text keeps none of its secrecy.
import bcrypt from 'bcryptjs';
import { createHash, timingSafeEqual } from 'node:crypto';

export type HashKind = 'bcrypt' | 'apr1' | 'sha1';

const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;
const APR1 = /^\$apr1\$([./0-9A-Za-z]{0,8})\$[./0-9A-Za-z]{22}$/;
const SHA1 = /^\{SHA\}[A-Za-z0-9+/]{27}=$/;

/** Which kind of hash this is, or undefined when berth cannot check passwords against it. */
export function hashKind(hash: string): HashKind | undefined {
  return BCRYPT.test(hash) ? 'bcrypt' : APR1.test(hash) ? 'apr1' : SHA1.test(hash) ? 'sha1' : undefined;
}

/**
 * The hash as written, or with `$$` read as `$`: compose files need `$$` for a `$`, and hashes
 * copied from them (or written so where nothing unescapes them) keep the doubled signs. A valid
 * hash is taken as it is; undefined when neither spelling is one.
 */
export function readHash(raw: string): string | undefined {
  if (hashKind(raw) !== undefined) return raw;
  const single = raw.replaceAll('$$', '$');
  return single !== raw && hashKind(single) !== undefined ? single : undefined;
}

/**
 * Whether the password matches the hash. Synchronous for apr1 and {SHA}; a Promise for bcrypt,
 * whose cost would stall the event loop if computed in one go (bcryptjs yields between rounds).
 * An unknown hash never matches.
 */
export function verifyPassword(hash: string, password: string): Promise<boolean> | boolean {
  switch (hashKind(hash)) {
    case 'bcrypt':
      return bcrypt.compare(password, hash).catch(() => false);
    case 'apr1':
      return sameText(apr1(password, APR1.exec(hash)![1]!), hash);
    case 'sha1':
      return sameText('{SHA}' + createHash('sha1').update(password, 'utf8').digest('base64'), hash);
    default:
      return false;
  }
}

/** Equal strings, compared in time that does not depend on where they differ. */
function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const MAGIC = '$apr1$';

/** Apache's MD5-crypt (Poul-Henning Kamp's md5crypt with the `$apr1$` magic): `$apr1$<salt>$<22 chars>`. */
export function apr1(password: string, salt: string): string {
  const pw = Buffer.from(password, 'utf8');
  const saltBytes = Buffer.from(salt.slice(0, 8), 'utf8');
  const md5 = () => createHash('md5');

  const alternate = md5().update(pw).update(saltBytes).update(pw).digest();
  const ctx = md5().update(pw).update(MAGIC).update(saltBytes);
  for (let left = pw.length; left > 0; left -= 16) ctx.update(alternate.subarray(0, Math.min(16, left)));
  for (let bits = pw.length; bits > 0; bits >>= 1) ctx.update(bits & 1 ? Buffer.of(0) : pw.subarray(0, 1));
  let final = ctx.digest();

  // 1000 rounds, there to make each guess cost something (little by today's measure).
  for (let round = 0; round < 1000; round++) {
    const step = md5();
    step.update(round & 1 ? pw : final);
    if (round % 3) step.update(saltBytes);
    if (round % 7) step.update(pw);
    step.update(round & 1 ? final : pw);
    final = step.digest();
  }

  const f = final;
  let out = '';
  const to64 = (value: number, count: number) => {
    for (let i = 0; i < count; i++, value >>= 6) out += ITOA64[value & 0x3f];
  };
  to64((f[0]! << 16) | (f[6]! << 8) | f[12]!, 4);
  to64((f[1]! << 16) | (f[7]! << 8) | f[13]!, 4);
  to64((f[2]! << 16) | (f[8]! << 8) | f[14]!, 4);
  to64((f[3]! << 16) | (f[9]! << 8) | f[15]!, 4);
  to64((f[4]! << 16) | (f[10]! << 8) | f[5]!, 4);
  to64(f[11]!, 2);
  return `${MAGIC}${salt.slice(0, 8)}$${out}`;
}

export interface BasicCredentials {
  readonly user: string;
  readonly password: string;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * `Authorization: Basic <base64(user:password)>` (RFC 7617), the scheme in any case; the user
 * ends at the first `:`. Null for anything else: another scheme, bad base64, no `:`, or text
 * that is not UTF-8.
 */
export function parseBasicAuthorization(header: string | readonly string[] | undefined): BasicCredentials | null {
  if (typeof header !== 'string') return null;
  const match = /^basic[ \t]+(\S+)[ \t]*$/i.exec(header);
  const token = match?.[1];
  if (token === undefined || token.length % 4 !== 0 || !BASE64.test(token)) return null;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(token, 'base64'));
  } catch {
    return null;
  }
  const colon = text.indexOf(':');
  if (colon === -1) return null;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}
