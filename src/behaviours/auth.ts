// Basic authentication for one route: the users of its spec, and a bounded memory of the
// credentials that already passed, so that a logged-in client does not pay a bcrypt (tens of
// milliseconds of CPU) on every request. Failures are never remembered: each guess costs a hash.
import { createHmac, randomBytes } from 'node:crypto';
import { parseBasicAuthorization, verifyPassword } from './htpasswd.js';
import type { BasicAuthSpec } from './spec.js';

const REMEMBERED = 1024;

export class BasicAuth {
  private readonly hashes: ReadonlyMap<string, string>;
  private readonly passed = new Map<string, true>();
  // Keyed by an HMAC under a per-process key, never by the password itself.
  private readonly secret = randomBytes(32);

  constructor(readonly spec: BasicAuthSpec) {
    this.hashes = new Map(spec.users.map(({ user, hash }) => [user, hash]));
  }

  /** Whether the Authorization header holds a listed user and its password; a Promise only when a hash must be computed. */
  check(authorization: string | readonly string[] | undefined): boolean | Promise<boolean> {
    const credentials = parseBasicAuthorization(authorization);
    if (credentials === null) return false;
    const known = this.hashes.get(credentials.user);
    // An unknown user costs a hash too, so that timing does not tell which users exist.
    const hash = known ?? this.spec.users[0]!.hash;
    const memo = createHmac('sha256', this.secret).update(credentials.user).update('\0').update(credentials.password).digest('base64');
    if (known !== undefined && this.passed.has(memo)) {
      this.passed.delete(memo);
      this.passed.set(memo, true);
      return true;
    }
    const remember = (ok: boolean): boolean => {
      if (!ok || known === undefined) return false;
      if (this.passed.size >= REMEMBERED) this.passed.delete(this.passed.keys().next().value!);
      this.passed.set(memo, true);
      return true;
    };
    const verified = verifyPassword(hash, credentials.password);
    return typeof verified === 'boolean' ? remember(verified) : verified.then(remember);
  }

  /** The WWW-Authenticate value of a 401. */
  challenge(): string {
    return `Basic realm="${this.spec.realm}", charset="UTF-8"`;
  }
}
