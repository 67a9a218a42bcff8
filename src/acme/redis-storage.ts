// --acme-storage redis://[user:pass@]host:port[/db]: the ACME storage shared by berth replicas.
//
//   <prefix>accounts       hash: directory slug -> {keyPem, url, email}   (the first key written wins)
//   <prefix>certificates   hash: group key -> {certPem, keyPem, meta}      (one HSET: never half of one)
//   <prefix>holds          hash: group key -> hold
//   <prefix>challenges     hash: replica id -> {until, http01, tlsAlpn01}  (answers in progress)
//   <prefix>default        the default certificate, so every replica serves the same one
//   <prefix>version        counter bumped by every certificate or hold written (the periodic look)
//   <prefix>lock:<group>   the order lock of a group: SET NX PX, renewed while held (lock.ts)
//   channel <prefix>events  {"type":"changed"} | {"type":"challenges","id"} | {"type":"held","id"}
//
// Redis away: commands fail at once (no offline queue), the manager keeps what it loaded and serves
// it, the connection (redis-link.ts) comes back with backoff, and its return reads everything again.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Codes } from '../errors.js';
import type { Problem } from '../routes/types.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { AlpnCertificate, ChallengeRegistry } from './challenges.js';
import { takeLock, type LockCommands } from './lock.js';
import { RedisLink } from './redis-link.js';
import type { Hold } from './schedule.js';
import { slugOfUrl, storedCertificate, type CertificateMeta, type StoredAccount, type StoredCertificate } from './storage.js';
import type { AcmeStore, ChallengeSet, HeldLock, SharedStore } from './store.js';

export const REDIS_PREFIX = 'berth:acme:';

/** Whether an --acme-storage value names Redis rather than a folder. */
export function isRedisStorage(value: string): boolean {
  return /^rediss?:\/\//i.test(value.trim());
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    return 'redis://(unparsable URL)';
  }
}

export interface RedisStorageOptions {
  readonly url: string;
  readonly challenges: ChallengeRegistry;
  readonly logger: Logger;
  readonly prefix?: string;
  readonly clock?: Clock;
  /** A lock's life unless renewed; 30 s. */
  readonly lockTtlMs?: number;
  /** The periodic look for changes a lost message did not announce; 30 s. */
  readonly rereadMs?: number;
  /** Each command's deadline (a paused server answers nothing); 3 s. */
  readonly commandTimeoutMs?: number;
  /** How long start waits for a first connection before serving without it; 3 s. */
  readonly connectWaitMs?: number;
  /** How long an order waits for the other replicas to hold its challenge answers; 3 s. */
  readonly heldTimeoutMs?: number;
}

type Message = { type: 'changed'; from: string } | { type: 'challenges'; from: string; id: string } | { type: 'held'; from: string; id: string };

// Compare-and-act: only the owner renews or deletes its lock.
const RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
// A write and the version bump together, so the periodic look never misses a write.
const HSET_BUMP = "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); return redis.call('INCR', KEYS[2])";
const HDEL_BUMP = "redis.call('HDEL', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])";

export class RedisStorage implements AcmeStore, SharedStore {
  readonly description: string;
  readonly lockTtlMs: number;
  /** This replica's name in messages and in the challenges hash. */
  readonly id = randomBytes(8).toString('hex');
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly link: RedisLink;
  private readonly listeners = new Set<() => void>();
  /** Per challenges message in flight: who said they hold it, how many should, and the wait to end. */
  private readonly acks = new Map<string, { from: Set<string>; expected: number; done: () => void }>();
  private lastVersion: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private initialized: Promise<void> | null = null;
  private challengeRead: Promise<void> = Promise.resolve();

  constructor(private readonly options: RedisStorageOptions) {
    this.description = redactUrl(options.url);
    this.prefix = options.prefix ?? REDIS_PREFIX;
    this.clock = options.clock ?? systemClock;
    this.lockTtlMs = options.lockTtlMs ?? 30_000;
    this.log = options.logger.child({ component: 'acme-redis' });
    this.link = new RedisLink({
      url: options.url,
      description: this.description,
      channel: `${this.prefix}events`,
      logger: this.log,
      commandTimeoutMs: options.commandTimeoutMs ?? 3000,
      onMessage: (text) => this.onMessage(text),
      onReturn: () => {
        this.emit();
        this.readChallengesOnce();
      },
    });
  }

  /** What replicas share: this storage itself. */
  get shared(): SharedStore {
    return this;
  }

  private key(name: string): string {
    return this.prefix + name;
  }

  /** Connects (waiting a little for the first connection), subscribes, and starts the periodic look; once. */
  init(): Promise<void> {
    // The default certificate and the manager both need it: the first call does the work.
    this.initialized ??= this.connect();
    return this.initialized;
  }

  private async connect(): Promise<void> {
    if (await this.link.connect(this.options.connectWaitMs ?? 3000)) {
      void this.look();
      // An order may be under way on another replica: its answers are in the hash already.
      this.readChallengesOnce();
    }
    this.timer = setInterval(() => void this.look(), this.options.rereadMs ?? 30_000);
    this.timer.unref();
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const ack of this.acks.values()) ack.done();
    this.link.close();
  }

  // ---- accounts, certificates, holds

  async readAccount(directoryUrl: string): Promise<StoredAccount | null> {
    const text = await this.command<string | null>(['HGET', this.key('accounts'), slugOfUrl(directoryUrl)]);
    if (text === null) return null;
    const account = JSON.parse(text) as { keyPem?: unknown; url?: unknown };
    if (typeof account.keyPem !== 'string') throw new Error(`the stored account of ${directoryUrl} has no key`);
    return { keyPem: account.keyPem, url: typeof account.url === 'string' ? account.url : null };
  }

  async writeAccountKey(directoryUrl: string, keyPem: string): Promise<void> {
    await this.command(['HSETNX', this.key('accounts'), slugOfUrl(directoryUrl), JSON.stringify({ directoryUrl, keyPem, url: null })]);
  }

  async writeAccountUrl(directoryUrl: string, url: string, email: string | null): Promise<void> {
    const stored = await this.readAccount(directoryUrl);
    if (!stored) throw new Error(`no stored account key for ${directoryUrl}`);
    const value = JSON.stringify({ directoryUrl, keyPem: stored.keyPem, url, email, createdAt: new Date().toISOString() });
    await this.command(['HSET', this.key('accounts'), slugOfUrl(directoryUrl), value]);
  }

  async listCertificates(): Promise<{ certificates: StoredCertificate[]; problems: Problem[] }> {
    const all = await this.hashAll('certificates');
    const certificates: StoredCertificate[] = [];
    const problems: Problem[] = [];
    for (const [key, text] of Object.entries(all)) {
      try {
        certificates.push(this.toCertificate(key, text));
      } catch (error) {
        problems.push({ code: Codes.acmeStorage, message: `stored certificate ${key} in ${this.description} is unreadable (${(error as Error).message}); it will be ordered again` });
      }
    }
    return { certificates, problems };
  }

  /** The group's certificate; null when there is none or it is unreadable (then it is ordered again). Rejects only when Redis does. */
  async readCertificate(key: string): Promise<StoredCertificate | null> {
    const text = await this.command<string | null>(['HGET', this.key('certificates'), key]);
    if (text === null) return null;
    try {
      return this.toCertificate(key, text);
    } catch (error) {
      this.log.error({ code: Codes.acmeStorage, key }, `stored certificate ${key} in ${this.description} is unreadable (${(error as Error).message}); it will be ordered again`);
      return null;
    }
  }

  async writeCertificate(key: string, certPem: string, keyPem: string, meta: CertificateMeta): Promise<StoredCertificate> {
    const text = JSON.stringify({ certPem, keyPem, meta });
    // Read back through the same checks as a stored one, before anyone is told.
    const stored = this.toCertificate(key, text);
    await this.command(['EVAL', HSET_BUMP, '2', this.key('certificates'), this.key('version'), key, text]);
    return stored;
  }

  async readHolds(): Promise<{ holds: Map<string, Hold>; problems: Problem[] }> {
    const holds = new Map<string, Hold>();
    const problems: Problem[] = [];
    for (const [key, text] of Object.entries(await this.hashAll('holds'))) {
      try {
        const hold = JSON.parse(text) as Hold;
        if (!Array.isArray(hold.names) || typeof hold.nextTryAt !== 'string' || Number.isNaN(Date.parse(hold.nextTryAt))) throw new Error('not a hold');
        holds.set(key, hold);
      } catch (error) {
        problems.push({ code: Codes.acmeStorage, message: `hold ${key} in ${this.description} is unreadable (${(error as Error).message}); ignored` });
      }
    }
    return { holds, problems };
  }

  async writeHold(key: string, hold: Hold): Promise<void> {
    await this.command(['EVAL', HSET_BUMP, '2', this.key('holds'), this.key('version'), key, JSON.stringify(hold)]);
  }

  async deleteHold(key: string): Promise<void> {
    await this.command(['EVAL', HDEL_BUMP, '2', this.key('holds'), this.key('version'), key]);
  }

  /** The shared default certificate: the first replica's, kept. */
  async readDefault(): Promise<{ certPem: string; keyPem: string } | null> {
    const text = await this.command<string | null>(['GET', this.key('default')]);
    if (text === null) return null;
    const pair = JSON.parse(text) as { certPem?: unknown; keyPem?: unknown };
    return typeof pair.certPem === 'string' && typeof pair.keyPem === 'string' ? { certPem: pair.certPem, keyPem: pair.keyPem } : null;
  }

  /** Stores it unless one is there; `replace` writes over one that is no longer usable. */
  async writeDefault(pair: { certPem: string; keyPem: string }, replace: boolean): Promise<void> {
    await this.command(['SET', this.key('default'), JSON.stringify(pair), ...(replace ? [] : ['NX'])]);
  }

  // ---- what replicas share

  lock(key: string): Promise<HeldLock | null> {
    const commands: LockCommands = {
      acquire: async (name, owner, ttlMs) => (await this.command(['SET', name, owner, 'NX', 'PX', String(ttlMs)])) === 'OK',
      renew: async (name, owner, ttlMs) => Number(await this.command(['EVAL', RENEW, '1', name, owner, String(ttlMs)])) === 1,
      release: async (name, owner) => Number(await this.command(['EVAL', RELEASE, '1', name, owner])) === 1,
    };
    return takeLock(commands, this.key(`lock:${key}`), {
      ttlMs: this.lockTtlMs,
      clock: this.clock,
      owner: this.id,
      onLost: (name, why) => this.log.warn({ code: Codes.acmeLock, lock: name }, `the order lock ${name} was lost: ${why}`),
    });
  }

  async announce(): Promise<void> {
    await this.publish({ type: 'changed', from: this.id });
  }

  async shareChallenges(own: ChallengeSet): Promise<void> {
    const empty = Object.keys(own.http01).length === 0 && Object.keys(own.tlsAlpn01).length === 0;
    // An entry of a replica that died mid-order is ignored once this time has passed.
    const until = this.clock.now() + 10 * 60_000;
    if (empty) await this.command(['HDEL', this.key('challenges'), this.id]);
    else await this.command(['HSET', this.key('challenges'), this.id, JSON.stringify({ until, ...own })]);
    const id = randomBytes(6).toString('hex');
    let done = () => {};
    const heard = new Promise<void>((resolve) => (done = resolve));
    const ack = { from: new Set<string>(), expected: Number.POSITIVE_INFINITY, done };
    this.acks.set(id, ack);
    let timer: NodeJS.Timeout | undefined;
    try {
      // PUBLISH counts the connections that got it, this replica's own subscriber among them.
      const others = Math.max(0, (await this.publish({ type: 'challenges', from: this.id, id })) - 1);
      if (empty || others === 0) return;
      ack.expected = others;
      if (ack.from.size >= others) return;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.heldTimeoutMs ?? 3000)));
      await Promise.race([heard, deadline]);
      const from = ack.from;
      if (from.size < others) this.log.warn({ code: Codes.acmeRedis, heard: from.size, replicas: others }, 'not every replica said it holds the challenge answers; validating anyway');
    } finally {
      clearTimeout(timer);
      this.acks.delete(id);
    }
  }

  // ---- connection and messages

  private command<T = unknown>(args: string[]): Promise<T> {
    return this.link.command<T>(args);
  }

  private async hashAll(name: string): Promise<Record<string, string>> {
    const reply = await this.command<string[] | Record<string, string>>(['HGETALL', this.key(name)]);
    if (!Array.isArray(reply)) return reply;
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < reply.length; i += 2) out[reply[i]!] = reply[i + 1]!;
    return out;
  }

  private publish(message: Message): Promise<number> {
    return this.link.publish(JSON.stringify(message));
  }

  private toCertificate(key: string, text: string): StoredCertificate {
    const value = JSON.parse(text) as { certPem?: unknown; keyPem?: unknown; meta?: unknown };
    if (typeof value.certPem !== 'string' || typeof value.keyPem !== 'string' || typeof value.meta !== 'object' || value.meta === null) throw new Error('not a stored certificate');
    return storedCertificate(key, `${this.description}#${this.key('certificates')}/${key}`, value.certPem, value.keyPem, value.meta as CertificateMeta);
  }

  private onMessage(text: string): void {
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      return;
    }
    // Anyone with access to the channel can publish: only an object is a message.
    if (typeof message !== 'object' || message === null) return;
    if (message.from === this.id) return;
    if (message.type === 'changed') this.emit();
    else if (message.type === 'challenges') this.challengeRead = this.challengeRead.then(() => this.readChallenges(message.id));
    else if (message.type === 'held') {
      const ack = this.acks.get(message.id);
      if (!ack) return;
      ack.from.add(message.from);
      if (ack.from.size >= ack.expected) ack.done();
    }
  }

  private readChallengesOnce(): void {
    this.challengeRead = this.challengeRead.then(() => this.readChallenges(null));
  }

  /** Holds the answers every other replica published, then says so (for a message); never rejects. */
  private async readChallenges(id: string | null): Promise<void> {
    try {
      const now = this.clock.now();
      const http01: Record<string, string> = {};
      const tlsAlpn01: Record<string, AlpnCertificate> = {};
      for (const [replica, text] of Object.entries(await this.hashAll('challenges'))) {
        if (replica === this.id) continue;
        const set = JSON.parse(text) as ChallengeSet & { until: number };
        if (!(set.until > now)) continue;
        Object.assign(http01, set.http01);
        Object.assign(tlsAlpn01, set.tlsAlpn01);
      }
      this.options.challenges.replaceShared(http01, tlsAlpn01);
      // This replica's workers too, before the CA is told to look.
      await this.options.challenges.held();
      if (id !== null) await this.publish({ type: 'held', from: this.id, id });
    } catch (error) {
      // A look after a reconnect that fails is part of the outage already logged.
      if (id === null) this.log.debug({ err: error }, 'reading the challenge answers failed');
      else this.log.warn({ code: Codes.acmeRedis, err: error }, `reading the challenge answers of another replica failed: ${(error as Error).message}`);
    }
  }

  /** The periodic look: the version counter moved (a write whose message was lost); also how a stalled server is noticed. */
  private async look(): Promise<void> {
    if (this.closed) return;
    let version: string;
    try {
      version = String(await this.link.probe(['GET', this.key('version')]));
    } catch {
      // The link logged the outage; the next look tries again.
      return;
    }
    if (this.lastVersion !== null && version !== this.lastVersion) this.emit();
    this.lastVersion = version;
  }

  private emit(): void {
    if (this.closed) return;
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.log.error({ code: Codes.internal, err: error }, 'an ACME storage listener failed');
      }
    }
  }
}
