// berth's certificates as one thing: the folder, ACME and the default certificate behind one SNI
// index that is rebuilt and swapped when a source changes; the challenge certificates of
// tls-alpn-01; and ACME told which hosts the routes want whenever the table changes.
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { Codes } from '../errors.js';
import type { RouteStore } from '../routes/store.js';
import type { Problem } from '../routes/types.js';
import { CertificateIndex } from './index.js';
import type { CertificateEntry, CertificateSource, CertificateStatus, ChallengeAnswers } from './types.js';
import { wantedHosts } from './wanted.js';

/** What the ACME side offers: certificates like any source, plus orders to follow the routes. */
export interface AcmeOrders extends CertificateSource {
  want(groups: readonly (readonly string[])[]): void;
  statuses(): readonly CertificateStatus[];
}

export interface CertificatesOptions {
  readonly defaultEntry: CertificateEntry;
  readonly folder: CertificateSource | null;
  readonly acme: AcmeOrders | null;
  readonly challenges: ChallengeAnswers;
  readonly logger: Logger;
}

export class Certificates {
  private index: CertificateIndex;
  private folderIndex: CertificateIndex;
  private readonly listeners: Array<() => void> = [];
  private lastWanted = '';

  constructor(private readonly options: CertificatesOptions) {
    this.challengeContextFor = challengeContexts(options.challenges);
    this.index = this.build();
    this.folderIndex = new CertificateIndex(options.folder?.entries ?? [], options.defaultEntry);
    const rebuild = () => {
      this.index = this.build(this.index);
      this.folderIndex = new CertificateIndex(options.folder?.entries ?? [], options.defaultEntry, { previous: this.folderIndex });
      for (const listener of this.listeners) listener();
    };
    options.folder?.onChange(rebuild);
    options.acme?.onChange(rebuild);
  }

  /** Keeps ACME's orders in step with the HTTPS routes of the table, now and on every change. */
  followRoutes(store: RouteStore): void {
    const tell = () => {
      if (!this.options.acme) return;
      const wanted = wantedHosts(store.current.pools, (host) => this.folderIndex.covers(host));
      const key = JSON.stringify(wanted);
      if (key === this.lastWanted) return;
      this.lastWanted = key;
      this.options.acme.want(wanted);
    };
    store.onChange(tell);
    this.onChange(tell);
    tell();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  contextFor(servername: string | undefined): SecureContext {
    return this.index.contextFor(servername);
  }

  /** The default certificate, for clients that send no server name. */
  fallback(): { certPem: string; keyPem: string } {
    return { certPem: this.options.defaultEntry.certPem, keyPem: this.options.defaultEntry.keyPem };
  }

  /** The tls-alpn-01 certificate for a name being validated, made into a context once. */
  readonly challengeContextFor: (servername: string) => SecureContext | undefined;

  /** What is served: the default certificate and every one of the folder and ACME (for workers to index). */
  get inForce(): { readonly defaultEntry: CertificateEntry; readonly entries: readonly CertificateEntry[] } {
    return { defaultEntry: this.options.defaultEntry, entries: [...(this.options.folder?.entries ?? []), ...(this.options.acme?.entries ?? [])] };
  }

  get problems(): readonly Problem[] {
    return [...(this.options.folder?.problems ?? []), ...(this.options.acme?.problems ?? [])];
  }

  /** Per host of an HTTPS route (and per certificate of the folder): what is served and what ACME is doing. */
  statuses(store: RouteStore): CertificateStatus[] {
    const acme = new Map((this.options.acme?.statuses() ?? []).map((status) => [status.host, status]));
    const hosts = new Set<string>();
    for (const pool of store.current.pools) if (pool.tls && pool.host !== null) hosts.add(pool.host);
    for (const entry of this.options.folder?.entries ?? []) for (const name of entry.names) hosts.add(name);
    for (const host of acme.keys()) hosts.add(host);
    return [...hosts].sort().map((host) => {
      const entry = this.index.entryFor(host.startsWith('*.') ? `x${host.slice(1)}` : host);
      const ordered = acme.get(host);
      return {
        host,
        source: entry.source,
        issuer: entry.issuer,
        notAfter: entry.notAfter.toISOString(),
        renewAt: ordered?.renewAt ?? null,
        lastError: ordered?.lastError ?? null,
        nextTryAt: ordered?.nextTryAt ?? null,
      };
    });
  }

  private build(previous?: CertificateIndex): CertificateIndex {
    const entries = [...(this.options.folder?.entries ?? []), ...(this.options.acme?.entries ?? [])];
    const logger = this.options.logger;
    return new CertificateIndex(entries, this.options.defaultEntry, {
      ...(previous ? { previous } : {}),
      onContextError: (entry, error) => logger.error({ code: Codes.certFile, path: entry.origin, err: error }, 'a certificate could not be loaded into TLS; serving the default for its names'),
    });
  }
}

/** The tls-alpn-01 certificates of `challenges` as secure contexts, each made once. */
export function challengeContexts(challenges: ChallengeAnswers): (servername: string) => SecureContext | undefined {
  const contexts = new Map<string, SecureContext>();
  return (servername) => {
    const challenge = challenges.tlsAlpn01(servername);
    if (!challenge) return undefined;
    const key = challenge.certPem;
    let context = contexts.get(key);
    if (!context) {
      context = createSecureContext({ cert: challenge.certPem, key: challenge.keyPem });
      // Challenges are short-lived: keep only the latest few.
      if (contexts.size > 32) contexts.clear();
      contexts.set(key, context);
    }
    return context;
  };
}
