// What the ACME manager keeps across restarts, behind one interface: a folder (storage.ts) for one
// berth, or Redis (redis-storage.ts) for several replicas that share one account and its certificates.
import type { Problem } from '../routes/types.js';
import type { AlpnCertificate } from './challenges.js';
import type { Hold } from './schedule.js';
import type { CertificateMeta, StoredAccount, StoredCertificate } from './storage.js';

export interface AcmeStore {
  /** Where it is, for logs and the certificates' origin (no password). */
  readonly description: string;
  init(): Promise<void>;
  readAccount(directoryUrl: string): Promise<StoredAccount | null>;
  /** Shared storage keeps a key another replica wrote first: read the account again after. */
  writeAccountKey(directoryUrl: string, keyPem: string): Promise<void>;
  writeAccountUrl(directoryUrl: string, url: string, email: string | null): Promise<void>;
  listCertificates(): Promise<{ certificates: StoredCertificate[]; problems: Problem[] }>;
  readCertificate(key: string): Promise<StoredCertificate | null>;
  writeCertificate(key: string, certPem: string, keyPem: string, meta: CertificateMeta): Promise<StoredCertificate>;
  readHolds(): Promise<{ holds: Map<string, Hold>; problems: Problem[] }>;
  writeHold(key: string, hold: Hold): Promise<void>;
  deleteHold(key: string): Promise<void>;
  /** Only storage that several replicas share has this. */
  readonly shared?: SharedStore;
}

/** The challenge answers one replica publishes for the others to serve. */
export interface ChallengeSet {
  readonly http01: Readonly<Record<string, string>>;
  readonly tlsAlpn01: Readonly<Record<string, AlpnCertificate>>;
}

/** A lock one replica holds while it orders a host group; renewed until released. */
export interface HeldLock {
  /** False once a renewal found the lock gone or taken (the holder was too slow, or storage was away). */
  readonly held: boolean;
  release(): Promise<void>;
}

export interface SharedStore {
  /** How long a lock lives unless renewed: a replica that dies holding one blocks no longer than this. */
  readonly lockTtlMs: number;
  /** The group's lock, or null while another replica holds it; rejects when the storage is unreachable. */
  lock(key: string): Promise<HeldLock | null>;
  /** Publishes this replica's challenge answers; resolves once the replicas listening hold them (bounded in time). */
  shareChallenges(own: ChallengeSet): Promise<void>;
  /** Tells the other replicas that certificates or holds changed. */
  announce(): Promise<void>;
  /** Called when stored certificates or holds may have changed elsewhere (a message, a reconnect, the periodic look). */
  onChange(listener: () => void): void;
  close(): Promise<void>;
}
