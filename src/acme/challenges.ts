// The answers to ACME challenges in progress: the manager writes them, the listeners read them
// before routing (http-01 at /.well-known/acme-challenge/<token> on the HTTP listener, tls-alpn-01
// when a ClientHello offers ALPN acme-tls/1).
// With storage shared by replicas, the answers another replica published are held beside this one's own.
import type { ChallengeAnswers } from '../certs/types.js';

export const HTTP01_PREFIX = '/.well-known/acme-challenge/';
export const ACME_TLS_ALPN = 'acme-tls/1';

export interface AlpnCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export class ChallengeRegistry implements ChallengeAnswers {
  private readonly tokens = new Map<string, string>();
  private readonly alpn = new Map<string, AlpnCertificate>();
  private sharedTokens = new Map<string, string>();
  private sharedAlpn = new Map<string, AlpnCertificate>();
  private readonly listeners = new Set<() => void>();
  private holders: (() => Promise<void>) | null = null;

  http01(token: string): string | undefined {
    return this.tokens.get(token) ?? this.sharedTokens.get(token);
  }

  tlsAlpn01(servername: string): AlpnCertificate | undefined {
    const name = servername.toLowerCase().replace(/\.$/, '');
    return this.alpn.get(name) ?? this.sharedAlpn.get(name);
  }

  /** The key authorization for a request path, if it is an http-01 path with a known token. */
  http01ForPath(path: string): string | undefined {
    if (!path.startsWith(HTTP01_PREFIX)) return undefined;
    const token = path.slice(HTTP01_PREFIX.length);
    // Tokens are base64url (RFC 8555 section 8.3): anything else is no token of ours.
    return /^[A-Za-z0-9_-]+$/.test(token) ? this.http01(token) : undefined;
  }

  setHttp01(token: string, keyAuthorization: string): void {
    this.tokens.set(token, keyAuthorization);
    this.changed();
  }

  deleteHttp01(token: string): void {
    if (this.tokens.delete(token)) this.changed();
  }

  setTlsAlpn01(servername: string, cert: AlpnCertificate): void {
    this.alpn.set(servername.toLowerCase(), cert);
    this.changed();
  }

  deleteTlsAlpn01(servername: string): void {
    if (this.alpn.delete(servername.toLowerCase())) this.changed();
  }

  /** Everything current, for workers that answer challenges for the primary. */
  snapshot(): { http01: Record<string, string>; tlsAlpn01: Record<string, AlpnCertificate> } {
    return {
      http01: { ...Object.fromEntries(this.sharedTokens), ...Object.fromEntries(this.tokens) },
      tlsAlpn01: { ...Object.fromEntries(this.sharedAlpn), ...Object.fromEntries(this.alpn) },
    };
  }

  /** This process's own answers, for the replicas sharing its storage. */
  own(): { http01: Record<string, string>; tlsAlpn01: Record<string, AlpnCertificate> } {
    return { http01: Object.fromEntries(this.tokens), tlsAlpn01: Object.fromEntries(this.alpn) };
  }

  /** Replaces the answers other replicas published (all of them, as read from the shared storage). */
  replaceShared(http01: Readonly<Record<string, string>>, tlsAlpn01: Readonly<Record<string, AlpnCertificate>>): void {
    const same = (a: Map<string, unknown>, b: Readonly<Record<string, unknown>>) =>
      a.size === Object.keys(b).length && Object.entries(b).every(([key, value]) => JSON.stringify(a.get(key)) === JSON.stringify(value));
    if (same(this.sharedTokens, http01) && same(this.sharedAlpn, tlsAlpn01)) return;
    this.sharedTokens = new Map(Object.entries(http01));
    this.sharedAlpn = new Map(Object.entries(tlsAlpn01).map(([name, cert]) => [name.toLowerCase(), cert]));
    this.changed();
  }

  /** Called after every change (to forward them to workers). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Declares who else answers challenges (the workers of --workers): `held()` then waits for them to
   * hold what is current, since the CA may look as soon as it is told to, and a worker without the
   * answer would fail the validation.
   */
  heldBy(holders: () => Promise<void>): void {
    this.holders = holders;
  }

  /** Resolves once every listener that answers challenges holds the current ones; never rejects. */
  held(): Promise<void> {
    return this.holders ? this.holders().catch(() => {}) : Promise.resolve();
  }

  private changed(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch {
        // A listener's failure is its own; the registry stays consistent.
      }
    }
  }
}
