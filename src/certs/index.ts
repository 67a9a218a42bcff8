// The SNI index: which certificate answers a server name. Immutable: build a new one when a source
// changes and swap the reference, as with the route table. Passing the previous index keeps the
// secure contexts of entries that did not change, so a rebuild costs nothing for them.
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { CertificateEntry } from './types.js';

/**
 * The TLS settings berth recommends for its HTTPS listener, after Mozilla's "intermediate"
 * configuration (https://ssl-config.mozilla.org/guidelines/5.7.json): TLS 1.2 and 1.3; for 1.2 only
 * ECDHE with AEAD ciphers. Mozilla's DHE suites are left out: Node offers them only with a `dhparam`,
 * and every client that has DHE-GCM has ECDHE-GCM too. TLS 1.3 suites are Node's defaults, which are
 * Mozilla's. The client chooses among these (Mozilla: "cipher preference: client chooses"), since all
 * are strong and a phone without AES hardware does better with ChaCha20.
 * ALPN (`h2`, `http/1.1`, `acme-tls/1`) and the SNI callback are the listener's to add.
 *
 * The listener must hold no `cert`/`key` of its own: Node adds the SNI context's certificate beside
 * the listener's instead of replacing it, and when their key types differ (EC and RSA) OpenSSL picks
 * the listener's for TLS 1.3 or 1.2 (nodejs/node#54235, pinned by test/integration/certs-sni.test.ts).
 * The price: a client that sends no SNI fails the handshake instead of getting the default certificate.
 */
export function tlsServerOptions() {
  return {
    minVersion: 'TLSv1.2',
    ciphers: [
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-RSA-AES128-GCM-SHA256',
      'ECDHE-ECDSA-AES256-GCM-SHA384',
      'ECDHE-RSA-AES256-GCM-SHA384',
      'ECDHE-ECDSA-CHACHA20-POLY1305',
      'ECDHE-RSA-CHACHA20-POLY1305',
    ].join(':'),
    ecdhCurve: 'X25519:prime256v1:secp384r1',
    honorCipherOrder: false,
  } satisfies SecureContextOptions;
}

export interface CertificateIndexOptions {
  /** The clock that says which certificates are valid; Date.now by default. */
  readonly now?: () => number;
  /** Added to every secure context (tlsServerOptions() by default). */
  readonly contextOptions?: SecureContextOptions;
  /** An index whose contexts are reused for the entries (same objects) that are in this one too. */
  readonly previous?: CertificateIndex;
  /** Told when an entry's context cannot be made; the default certificate is served instead. */
  readonly onContextError?: (entry: CertificateEntry, error: unknown) => void;
}

/** A server name as SNI and Host compare it: lowercase, without a trailing dot. */
export function normalizeServername(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

export class CertificateIndex {
  /** Candidates per name (`*.example.com` for wildcards), best first, valid or not. */
  private readonly byName = new Map<string, CertificateEntry[]>();
  private readonly contexts: Map<CertificateEntry, SecureContext>;
  private readonly now: () => number;
  private readonly contextOptions: SecureContextOptions;
  private readonly onContextError: ((entry: CertificateEntry, error: unknown) => void) | undefined;

  /**
   * @param entries every certificate the sources supply: the folder's beat ACME's for one name, then
   *   the one that lasts longest wins; a valid certificate always beats an expired one.
   * @param defaultEntry served for names nothing covers, and to clients that send no SNI.
   */
  constructor(
    entries: readonly CertificateEntry[],
    readonly defaultEntry: CertificateEntry,
    options: CertificateIndexOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.contextOptions = options.contextOptions ?? tlsServerOptions();
    this.onContextError = options.onContextError;
    for (const entry of entries) {
      if (entry.source === 'default') continue;
      for (const name of entry.names) {
        const key = normalizeServername(name);
        const list = this.byName.get(key);
        if (list) list.push(entry);
        else this.byName.set(key, [entry]);
      }
    }
    for (const list of this.byName.values()) list.sort(rank);
    this.contexts = new Map();
    const kept = new Set([defaultEntry, ...entries]);
    for (const [entry, context] of options.previous?.contexts ?? []) {
      if (kept.has(entry)) this.contexts.set(entry, context);
    }
  }

  /** Every distinct certificate indexed (the default aside), in no particular order. */
  get entries(): CertificateEntry[] {
    return [...new Set([...this.byName.values()].flat())];
  }

  /**
   * The certificate for a server name: an exact name (case and a trailing dot aside), else a wildcard
   * one label deep (`*.example.com` covers `a.example.com`, not `example.com` nor `a.b.example.com`),
   * else the default. A valid certificate is preferred to an expired one under either rule.
   */
  entryFor(servername: string | undefined): CertificateEntry {
    const candidates = servername ? this.candidates(normalizeServername(servername)) : [];
    const now = this.now();
    return candidates.find((entry) => isValidAt(entry, now)) ?? candidates[0] ?? this.defaultEntry;
  }

  /** Whether a certificate other than the default, and valid now, covers the host. */
  covers(host: string): boolean {
    const now = this.now();
    return this.candidates(normalizeServername(host)).some((entry) => isValidAt(entry, now));
  }

  /** The secure context for a server name, made once per entry and reused. */
  contextFor(servername: string | undefined): SecureContext {
    const entry = this.entryFor(servername);
    try {
      return this.contextOf(entry);
    } catch (error) {
      if (entry === this.defaultEntry) throw error;
      this.onContextError?.(entry, error);
      return this.contextOf(this.defaultEntry);
    }
  }

  /**
   * A `tls.Server` SNICallback answering from this index. The listener usually wants
   * `(name, cb) => current().sniCallback(name, cb)` so that every handshake reads the latest index.
   */
  readonly sniCallback = (servername: string, callback: (error: Error | null, context?: SecureContext) => void): void => {
    let context: SecureContext;
    try {
      context = this.contextFor(servername);
    } catch (error) {
      callback(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    callback(null, context);
  };

  private candidates(name: string): CertificateEntry[] {
    const exact = this.byName.get(name) ?? [];
    const dot = name.indexOf('.');
    // `*.com` would be wildcarded from "a.com" too: a wildcard needs two labels after it, as browsers require.
    const wildcard = dot > 0 && name.indexOf('.', dot + 1) > 0 ? (this.byName.get(`*${name.slice(dot)}`) ?? []) : [];
    return wildcard.length === 0 ? exact : [...exact, ...wildcard];
  }

  private contextOf(entry: CertificateEntry): SecureContext {
    let context = this.contexts.get(entry);
    if (!context) {
      context = createSecureContext({ ...this.contextOptions, cert: entry.certPem, key: entry.keyPem });
      this.contexts.set(entry, context);
    }
    return context;
  }
}

function isValidAt(entry: CertificateEntry, now: number): boolean {
  return entry.notBefore.getTime() <= now && now <= entry.notAfter.getTime();
}

const SOURCE_RANK = { file: 0, acme: 1, default: 2 } as const;

/** Folder before ACME, then the latest end date, then the origin (so the order never depends on input order). */
function rank(a: CertificateEntry, b: CertificateEntry): number {
  return SOURCE_RANK[a.source] - SOURCE_RANK[b.source] || b.notAfter.getTime() - a.notAfter.getTime() || (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0);
}
