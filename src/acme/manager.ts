// Certificates from an ACME CA for the hosts berth routes: the loop around schedule.ts (what to
// order, when) and storage.ts (what is kept). Level-triggered like the route sources: want() only
// replaces the wanted host groups; every pass plans again from them, the stored certificates and
// the holds, so a host dropped while an order runs is simply not ordered next.
import { X509Certificate } from 'node:crypto';
import * as acme from 'acme-client';
import type { Logger } from 'pino';
import type { CertificateEntry, CertificateSource, CertificateStatus } from '../certs/types.js';
import { BerthError, Codes, type Code } from '../errors.js';
import type { Problem } from '../routes/types.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { ChallengeRegistry } from './challenges.js';
import { beginAttempt, coveringCertificate, groupKey, isDue, normalizeGroups, plan, recordFailure, renewAt, type Hold, type PlanReason } from './schedule.js';
import { AcmeStorage, dnsNames, type StoredCertificate } from './storage.js';
import type { AcmeStore } from './store.js';

export type ChallengeType = 'http-01' | 'tls-alpn-01';

export const LETS_ENCRYPT_PRODUCTION = acme.directory.letsencrypt.production;
export const LETS_ENCRYPT_STAGING = acme.directory.letsencrypt.staging;

/** The directory URL for an --acme-ca value: empty or `production` for Let's Encrypt, `staging`, or an https URL. */
export function acmeDirectoryUrl(value: string): string {
  const v = value.trim();
  if (v === '' || v === 'production' || v === 'letsencrypt') return LETS_ENCRYPT_PRODUCTION;
  if (v === 'staging' || v === 'letsencrypt-staging') return LETS_ENCRYPT_STAGING;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new BerthError(Codes.configInvalid, `--acme-ca ${JSON.stringify(value)} is neither production, staging nor an ACME directory URL`);
  }
  if (url.protocol !== 'https:') throw new BerthError(Codes.configInvalid, `--acme-ca ${JSON.stringify(value)}: an ACME directory is an https URL`);
  return url.href;
}

export interface AcmeManagerOptions {
  readonly directoryUrl: string;
  /** The account's contact, or null for none. */
  readonly email: string | null;
  /** A folder of its own (storage.ts), unless `store` is given. */
  readonly storageDir?: string;
  /** The storage to use instead of a folder: Redis, shared by replicas. */
  readonly store?: AcmeStore;
  readonly challenges: ChallengeRegistry;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Challenge types in the order berth prefers them. */
  readonly challengeOrder?: readonly ChallengeType[];
  /** How often to look for due renewals when nothing else wakes the manager; 6 h. */
  readonly checkIntervalMs?: number;
  /** Jitter for the failure back-off, in [0, 1). */
  readonly random?: () => number;
  /** acme-client's polling of pending challenges and orders. */
  readonly poll?: { readonly attempts: number; readonly minMs: number; readonly maxMs: number };
}

const DEFAULT_CHECK_MS = 6 * 3600_000;

/** An error with the code to log it under. */
class AcmeFailure extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}

export class AcmeManager implements CertificateSource {
  private readonly clock: Clock;
  private readonly storage: AcmeStore;
  private readonly log: Logger;
  private readonly challengeOrder: readonly ChallengeType[];
  private wanted: string[][] = [];
  private nameProblems: Problem[] = [];
  private storageProblems: Problem[] = [];
  private readonly certs = new Map<string, StoredCertificate>();
  private holds = new Map<string, Hold>();
  private client: acme.Client | null = null;
  private started = false;
  private stopped = false;
  private running: Promise<void> | null = null;
  private again = false;
  private timer: { cancel(): void } | null = null;
  private current: { entries: readonly CertificateEntry[]; signature: string } = { entries: [], signature: '' };
  private readonly listeners = new Set<() => void>();
  /** Groups another replica is ordering, and until when to leave them to it (its lock's life). */
  private readonly elsewhere = new Map<string, number>();
  private reloading: Promise<void> | null = null;
  private reloadAgain = false;

  constructor(private readonly options: AcmeManagerOptions) {
    this.clock = options.clock ?? systemClock;
    if (!options.store && options.storageDir === undefined) throw new Error('AcmeManager needs storageDir or store');
    this.storage = options.store ?? new AcmeStorage(options.storageDir!);
    this.log = options.logger.child({ component: 'acme' });
    this.challengeOrder = options.challengeOrder ?? ['http-01', 'tls-alpn-01'];
  }

  get entries(): readonly CertificateEntry[] {
    return this.current.entries;
  }

  get problems(): readonly Problem[] {
    const held: Problem[] = [];
    for (const names of this.wanted) {
      const hold = this.holds.get(groupKey(names));
      if (hold?.lastError && hold.directoryUrl === this.options.directoryUrl) {
        held.push({
          code: hold.lastError.code,
          message: `${names.join(', ')}: ${hold.lastError.message}; next try at ${hold.nextTryAt}`,
          fix: 'check that the names resolve to berth and that port 80 (http-01) or 443 (tls-alpn-01) reaches it',
        });
      }
    }
    return [...this.storageProblems, ...this.nameProblems, ...held];
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Reads the storage, then orders what is wanted and due. Fails only when the storage folder cannot be made. */
  async start(): Promise<void> {
    try {
      await this.storage.init();
    } catch (error) {
      throw new BerthError(Codes.acmeStorage, `--acme-storage ${this.storage.description} cannot be created or used: ${(error as Error).message}`);
    }
    await this.load();
    // Level-triggered like the sources: a message from another replica only says "look again".
    this.storage.shared?.onChange(() => this.reload());
    this.started = true;
    this.refresh();
    this.kick();
  }

  /** The wanted host groups, replacing the last ones: one group per container's hosts, or per host. */
  want(groups: readonly (readonly string[])[]): void {
    const normalized = normalizeGroups(groups);
    for (const problem of normalized.problems) {
      if (!this.nameProblems.some((known) => known.message === problem.message)) this.log.warn({ code: problem.code }, problem.message);
    }
    this.nameProblems = normalized.problems;
    this.wanted = normalized.groups;
    if (!this.started) return;
    this.refresh();
    this.kick();
  }

  statuses(): CertificateStatus[] {
    const now = this.clock.now();
    const usable = this.usable();
    const out: CertificateStatus[] = [];
    const seen = new Set<string>();
    for (const names of this.wanted) {
      const hold = this.holdFor(groupKey(names));
      for (const host of names) {
        if (seen.has(host)) continue;
        seen.add(host);
        const cert = coveringCertificate([host], usable, now);
        out.push({
          host,
          source: cert ? 'acme' : 'none',
          issuer: cert?.issuer ?? null,
          notAfter: cert?.notAfter.toISOString() ?? null,
          renewAt: cert ? renewAt(cert).toISOString() : null,
          lastError: hold?.lastError ?? null,
          nextTryAt: hold?.lastError ? hold.nextTryAt : null,
        });
      }
    }
    for (const problem of this.nameProblems) {
      const host = /^no ACME certificate for (\S+):/.exec(problem.message)?.[1];
      if (!host || seen.has(host)) continue;
      seen.add(host);
      out.push({ host, source: 'none', issuer: null, notAfter: null, renewAt: null, lastError: { code: problem.code, message: problem.message }, nextTryAt: null });
    }
    return out.sort((a, b) => a.host.localeCompare(b.host));
  }

  /** Stops ordering; resolves once an order under way has ended (its certificate is still stored). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    await this.running;
  }

  /** Reads certificates and holds; what cannot be read keeps what was read before (the last good). */
  private async load(quiet = false): Promise<void> {
    const problems: Problem[] = [];
    try {
      const listed = await this.storage.listCertificates();
      for (const cert of listed.certificates) this.certs.set(cert.key, cert);
      problems.push(...listed.problems);
    } catch (error) {
      problems.push({ code: Codes.acmeStorage, message: `listing stored certificates failed: ${(error as Error).message}` });
    }
    try {
      const read = await this.storage.readHolds();
      this.holds = read.holds;
      problems.push(...read.problems);
    } catch (error) {
      problems.push({ code: Codes.acmeStorage, message: `reading stored holds failed: ${(error as Error).message}` });
    }
    const known = new Set(this.storageProblems.map((problem) => problem.message));
    for (const problem of problems) if (!quiet || !known.has(problem.message)) this.log.error({ code: problem.code }, problem.message);
    this.storageProblems = problems;
    const facts = { storage: this.storage.description, certificates: this.certs.size, holds: this.holds.size, directory: this.options.directoryUrl };
    if (quiet) this.log.debug(facts, 'ACME storage read again');
    else this.log.info(facts, 'ACME storage read');
  }

  /** Reads the shared storage again (another replica stored something), then plans again; one at a time. */
  private reload(): void {
    if (this.stopped) return;
    if (this.reloading) {
      this.reloadAgain = true;
      return;
    }
    this.reloading = this.load(true)
      .then(() => {
        // A group another replica was ordering may have its certificate or its hold now.
        this.elsewhere.clear();
        this.refresh();
        this.kick();
      })
      .catch((error: unknown) => this.log.error({ code: Codes.internal, err: error }, 'reading the ACME storage again failed'))
      .finally(() => {
        this.reloading = null;
        if (this.reloadAgain) {
          this.reloadAgain = false;
          this.reload();
        }
      });
  }

  /** Certificates from this CA that are within their validity now. */
  private usable(): StoredCertificate[] {
    const now = this.clock.now();
    return [...this.certs.values()].filter(
      (cert) => cert.meta.directoryUrl === this.options.directoryUrl && cert.notBefore.getTime() <= now && cert.notAfter.getTime() > now,
    );
  }

  private holdFor(key: string): Hold | undefined {
    const hold = this.holds.get(key);
    return hold && hold.directoryUrl === this.options.directoryUrl ? hold : undefined;
  }

  /** Recomputes the entries (valid certificates for wanted names) and tells listeners if they changed. */
  private refresh(): void {
    const wantedNames = new Set(this.wanted.flat());
    const entries = this.usable()
      .filter((cert) => cert.names.some((name) => wantedNames.has(name)))
      .sort((a, b) => a.key.localeCompare(b.key))
      .map(
        (cert): CertificateEntry => ({
          names: cert.names,
          source: 'acme',
          certPem: cert.certPem,
          keyPem: cert.keyPem,
          notBefore: cert.notBefore,
          notAfter: cert.notAfter,
          issuer: cert.issuer,
          origin: cert.dir,
        }),
      );
    // The PEM itself: a renewal within the same second keeps origin and notAfter.
    const signature = entries.map((entry) => `${entry.origin}\n${entry.certPem}`).join('\n');
    if (signature === this.current.signature) return;
    this.current = { entries, signature };
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.log.error({ code: Codes.internal, err: error }, 'a certificate listener failed');
      }
    }
  }

  /** Runs the planning loop, or asks the running one for another pass. */
  private kick(): void {
    if (this.stopped || !this.started) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop()
      .catch((error: unknown) => this.log.error({ code: Codes.internal, err: error }, 'the ACME loop failed; it runs again at the next check'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.again = false;
      const now = this.clock.now();
      this.refresh();
      const holds = new Map([...this.holds].filter(([, hold]) => hold.directoryUrl === this.options.directoryUrl));
      const next = plan(this.wanted, this.usable(), holds, now);
      let wakeAt = next.wakeAt;
      for (const [key, until] of this.elsewhere) {
        if (until <= now) this.elsewhere.delete(key);
        else if (next.due.some((group) => group.key === key)) wakeAt = wakeAt === undefined ? until : Math.min(wakeAt, until);
      }
      this.arm(wakeAt, now);
      const first = next.due.find((group) => !this.elsewhere.has(group.key));
      if (!first) return;
      await this.order(first.names, first.key, first.reason);
    }
  }

  private arm(wakeAt: number | undefined, now: number): void {
    this.timer?.cancel();
    const check = this.options.checkIntervalMs ?? DEFAULT_CHECK_MS;
    const delay = Math.max(1000, Math.min(check, wakeAt === undefined ? check : wakeAt - now));
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.kick();
    }, delay);
  }

  /**
   * One order under the group's lock when the storage is shared: another replica holding it is left
   * to order, and this one reads the result when told (or when the lock would have expired).
   */
  private async order(names: readonly string[], key: string, reason: PlanReason): Promise<void> {
    const shared = this.storage.shared;
    if (!shared) return this.orderHeld(names, key, reason);
    let lock;
    try {
      lock = await shared.lock(key);
    } catch (error) {
      this.elsewhere.set(key, this.clock.now() + shared.lockTtlMs);
      this.log.warn({ code: Codes.acmeRedis, hosts: names, err: error }, `the lock for ${names.join(', ')} cannot be taken (${describe(error)}); no order until the storage answers`);
      return;
    }
    if (!lock) {
      this.elsewhere.set(key, this.clock.now() + shared.lockTtlMs);
      this.log.info({ hosts: names }, 'another replica is ordering this certificate; waiting for it');
      return;
    }
    try {
      // Between this replica's plan and its lock, another may have stored the certificate or a hold.
      const [cert, holds] = await Promise.all([this.storage.readCertificate(key), this.storage.readHolds()]);
      if (cert) this.certs.set(key, cert);
      this.holds = holds.holds;
      const held = new Map([...this.holds].filter(([, hold]) => hold.directoryUrl === this.options.directoryUrl));
      const again = plan([names], this.usable(), held, this.clock.now()).due[0];
      if (!again) {
        this.refresh();
        return;
      }
      await this.orderHeld(names, key, again.reason);
      if (!lock.held) this.log.warn({ code: Codes.acmeLock, hosts: names }, `the lock for ${names.join(', ')} was lost during the order; another replica may have ordered too`);
    } catch (error) {
      // Looked at again when the storage answers (a reconnect reads it) or the lock would have expired.
      this.elsewhere.set(key, this.clock.now() + shared.lockTtlMs);
      this.log.error({ code: Codes.acmeRedis, hosts: names, err: error }, `reading the shared ACME storage for ${names.join(', ')} failed: ${describe(error)}`);
    } finally {
      await lock.release();
    }
  }

  /** One order, start to stored certificate; never throws. */
  private async orderHeld(names: readonly string[], key: string, reason: PlanReason): Promise<void> {
    const startedAt = this.clock.now();
    const hold = beginAttempt(this.holdFor(key), names, this.options.directoryUrl, startedAt, this.options.random);
    await this.saveHold(key, hold);
    this.log.info({ hosts: names, reason, attempt: hold.failures }, reason === 'renew' ? 'renewing certificate' : 'ordering certificate');
    let issued: { certPem: string; keyPem: string };
    try {
      const client = await this.account();
      issued = await this.issue(client, names);
    } catch (error) {
      const failure = error instanceof AcmeFailure ? error : new AcmeFailure(Codes.acmeOrder, describe(error), { cause: error });
      await this.saveHold(key, recordFailure(hold, { code: failure.code, message: failure.message }));
      await this.announce();
      this.log.error(
        { code: failure.code, hosts: names, failures: hold.failures, nextTryAt: hold.nextTryAt, err: failure.cause ?? failure },
        `${reason === 'renew' ? 'renewing' : 'ordering'} the certificate for ${names.join(', ')} failed: ${failure.message}; next try at ${hold.nextTryAt}`,
      );
      return;
    }
    const leaf = new X509Certificate(issued.certPem);
    const meta = {
      names: [...names],
      directoryUrl: this.options.directoryUrl,
      notBefore: new Date(leaf.validFrom).toISOString(),
      notAfter: new Date(leaf.validTo).toISOString(),
      lastOrder: { at: new Date(startedAt).toISOString(), reason },
    };
    try {
      this.certs.set(key, await this.storage.writeCertificate(key, issued.certPem, issued.keyPem, meta));
    } catch (error) {
      // Serve it from memory: ordering it again would count against the CA's duplicate limit.
      this.log.error({ code: Codes.acmeStorage, hosts: names, err: error }, `storing the certificate for ${names.join(', ')} failed; serving it from memory until berth restarts`);
      this.certs.set(key, {
        key,
        dir: `${this.storage.description} (not stored)`,
        certPem: issued.certPem,
        keyPem: issued.keyPem,
        meta,
        names: dnsNames(leaf),
        notBefore: new Date(leaf.validFrom),
        notAfter: new Date(leaf.validTo),
        issuer: leaf.issuer,
      });
    }
    const validity = { notBefore: new Date(leaf.validFrom), notAfter: new Date(leaf.validTo) };
    if (isDue(validity, this.clock.now())) {
      // Renewing it at once would loop, each turn a duplicate certificate: keep the hold instead.
      const message = `the CA issued a certificate for ${names.join(', ')} that is due for renewal already (valid ${meta.notBefore} to ${meta.notAfter}); is the clock right?`;
      await this.saveHold(key, recordFailure(hold, { code: Codes.acmeOrder, message }));
      this.log.warn({ code: Codes.acmeOrder, hosts: names, nextTryAt: hold.nextTryAt }, message);
    } else {
      this.holds.delete(key);
      try {
        await this.storage.deleteHold(key);
      } catch (error) {
        this.log.error({ code: Codes.acmeStorage, err: error }, `removing the hold of ${names.join(', ')} failed`);
      }
    }
    this.log.info({ hosts: names, notAfter: meta.notAfter, issuer: leaf.issuer, serial: leaf.serialNumber }, 'certificate issued');
    this.refresh();
    await this.announce();
  }

  /** Tells the replicas sharing the storage to read it again; a failure is logged, they read it on their own soon. */
  private async announce(): Promise<void> {
    try {
      await this.storage.shared?.announce();
    } catch (error) {
      this.log.warn({ code: Codes.acmeRedis, err: error }, `telling the other replicas failed (${describe(error)}); they read the storage again on their own`);
    }
  }

  private async saveHold(key: string, hold: Hold): Promise<void> {
    this.holds.set(key, hold);
    try {
      await this.storage.writeHold(key, hold);
    } catch (error) {
      this.log.error({ code: Codes.acmeStorage, err: error }, `storing the hold of ${hold.names.join(', ')} failed; a restart may retry sooner`);
    }
  }

  /** The ACME client with a registered account, read from the storage or created once. */
  private async account(): Promise<acme.Client> {
    if (this.client) return this.client;
    const { directoryUrl, email } = this.options;
    try {
      let stored = await this.storage.readAccount(directoryUrl);
      if (!stored) {
        const keyPem = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
        await this.storage.writeAccountKey(directoryUrl, keyPem);
        // Shared storage keeps the key a replica wrote first: one account for all of them.
        stored = (await this.storage.readAccount(directoryUrl)) ?? { keyPem, url: null };
      }
      const poll = this.options.poll;
      const client = new acme.Client({
        directoryUrl,
        accountKey: stored.keyPem,
        ...(stored.url ? { accountUrl: stored.url } : {}),
        ...(poll ? { backoffAttempts: poll.attempts, backoffMin: poll.minMs, backoffMax: poll.maxMs } : {}),
      });
      if (!stored.url) {
        // With a key the CA already knows, this answers the existing account (RFC 8555 7.3.1).
        await client.createAccount({ termsOfServiceAgreed: true, ...(email ? { contact: [`mailto:${email}`] } : {}) });
        const url = client.getAccountUrl();
        await this.storage.writeAccountUrl(directoryUrl, url, email);
        this.log.info({ directory: directoryUrl, account: url }, 'ACME account registered');
      }
      this.client = client;
      return client;
    } catch (error) {
      throw new AcmeFailure(Codes.acmeAccount, `the ACME account at ${directoryUrl} could not be set up: ${describe(error)}`, { cause: error });
    }
  }

  private async issue(client: acme.Client, names: readonly string[]): Promise<{ certPem: string; keyPem: string }> {
    const challenges = this.options.challenges;
    const [key, csr] = await acme.crypto.createCsr(
      { altNames: [...names], ...(names[0]!.length <= 64 ? { commonName: names[0]! } : {}) },
      await acme.crypto.createPrivateEcdsaKey('P-256'),
    );
    const certPem = await client.auto({
      csr,
      termsOfServiceAgreed: true,
      challengePriority: [...this.challengeOrder],
      // acme-client's own check fetches the name from here, through public DNS: the CA's is the one that counts.
      skipChallengeVerification: true,
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        if (challenge.type === 'http-01') challenges.setHttp01(challenge.token, keyAuthorization);
        else if ((challenge.type as string) === 'tls-alpn-01') {
          const [alpnKey, alpnCert] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization);
          challenges.setTlsAlpn01(authz.identifier.value, { certPem: alpnCert.toString(), keyPem: alpnKey.toString() });
        } else throw new Error(`challenge type ${challenge.type} is not one berth answers`);
        // acme-client tells the CA to validate once this returns: every listener must hold the answer by then,
        // the other replicas' too (the CA may reach any of them).
        await challenges.held();
        await this.storage.shared?.shareChallenges(challenges.own()).catch((error: unknown) => {
          // This replica still answers: the CA may reach it.
          this.log.warn({ code: Codes.acmeRedis, err: error }, `sharing the challenge answers failed (${describe(error)}); only this replica holds them`);
        });
      },
      challengeRemoveFn: async (authz, challenge) => {
        if (challenge.type === 'http-01') challenges.deleteHttp01(challenge.token);
        else if ((challenge.type as string) === 'tls-alpn-01') challenges.deleteTlsAlpn01(authz.identifier.value);
        await this.storage.shared?.shareChallenges(challenges.own()).catch(() => {});
      },
    });
    const leaf = new X509Certificate(certPem);
    const missing = names.filter((name) => !dnsNames(leaf).includes(name));
    if (missing.length > 0) throw new Error(`the CA issued a certificate without ${missing.join(', ')}`);
    return { certPem, keyPem: key.toString() };
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
