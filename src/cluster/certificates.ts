// The worker's side of HTTPS: the certificates and challenge answers the primary sends, held behind
// the same interfaces the proxy server reads in a single process.
import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { AlpnCertificate } from '../acme/challenges.js';
import { CertificateIndex } from '../certs/index.js';
import { challengeContexts } from '../certs/service.js';
import type { CertificateEntry, ChallengeAnswers } from '../certs/types.js';
import { Codes } from '../errors.js';
import type { HttpsCertificates } from '../proxy/server.js';
import type { ToWorker, WireCertificate } from './messages.js';

export function toWire(entry: CertificateEntry): WireCertificate {
  return { ...entry, names: [...entry.names], notBefore: entry.notBefore.toISOString(), notAfter: entry.notAfter.toISOString() };
}

export function fromWire(wire: WireCertificate): CertificateEntry {
  return { ...wire, names: [...wire.names], notBefore: new Date(wire.notBefore), notAfter: new Date(wire.notAfter) };
}

/** What makes two certificates the same one: an entry that did not change keeps its secure context. */
const identity = (wire: WireCertificate) => JSON.stringify([wire.origin, wire.source, wire.notBefore, wire.notAfter, wire.certPem, wire.keyPem]);

/** The challenge answers the primary sent last. */
export class ChallengeCopy implements ChallengeAnswers {
  private tokens = new Map<string, string>();
  private alpn = new Map<string, AlpnCertificate>();

  replace(message: Extract<ToWorker, { type: 'berth:challenges' }>): void {
    this.tokens = new Map(Object.entries(message.http01));
    this.alpn = new Map(Object.entries(message.tlsAlpn01));
  }

  http01(token: string): string | undefined {
    return this.tokens.get(token);
  }

  tlsAlpn01(servername: string): AlpnCertificate | undefined {
    return this.alpn.get(servername.toLowerCase().replace(/\.$/, ''));
  }
}

/** The SNI index of a worker, rebuilt from every `berth:certificates`; null until the first one. */
export class WorkerCertificates implements HttpsCertificates {
  private index: CertificateIndex | null = null;
  /** The entries of the last message by identity, so that unchanged ones stay the same objects. */
  private known = new Map<string, CertificateEntry>();
  readonly challengeContextFor: (servername: string) => SecureContext | undefined;

  constructor(
    challenges: ChallengeAnswers,
    private readonly logger: Logger,
  ) {
    this.challengeContextFor = challengeContexts(challenges);
  }

  get held(): boolean {
    return this.index !== null;
  }

  replace(message: Extract<ToWorker, { type: 'berth:certificates' }>): void {
    const known = new Map<string, CertificateEntry>();
    const entryOf = (wire: WireCertificate) => {
      const key = identity(wire);
      const entry = known.get(key) ?? this.known.get(key) ?? fromWire(wire);
      known.set(key, entry);
      return entry;
    };
    const defaultEntry = entryOf(message.defaultEntry);
    const entries = message.entries.map(entryOf);
    this.known = known;
    this.index = new CertificateIndex(entries, defaultEntry, {
      ...(this.index ? { previous: this.index } : {}),
      onContextError: (entry, error) => this.logger.error({ code: Codes.certFile, path: entry.origin, err: error }, 'a certificate could not be loaded into TLS; serving the default for its names'),
    });
  }

  contextFor(servername: string | undefined): SecureContext {
    return this.current().contextFor(servername);
  }

  fallback(): { certPem: string; keyPem: string } {
    const { certPem, keyPem } = this.current().defaultEntry;
    return { certPem, keyPem };
  }

  private current(): CertificateIndex {
    // The worker listens for HTTPS only once it holds certificates.
    if (!this.index) throw new Error('no certificates received from the primary yet');
    return this.index;
  }
}
