// --acme-storage DIR: what berth must keep across restarts so it never orders what it already has.
//
//   DIR/accounts/<ca>/key.pem, account.json   one account per ACME directory URL
//   DIR/certificates/<group>/cert.pem, key.pem, meta.json
//   DIR/holds/<group>.json                     back-off of failed orders (see schedule.ts)
//
// Files 0600, folders 0700; every file is written to a temporary name and renamed over the old
// one, so a crash leaves the old file or the new one, never half of either. A certificate folder
// is three files: a cert and key that do not match (a crash between them) make the folder count
// as missing, and the group is ordered again.
import { createHash, randomBytes, X509Certificate, createPrivateKey } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Codes } from '../errors.js';
import type { Problem } from '../routes/types.js';
import type { Hold } from './schedule.js';
import type { AcmeStore } from './store.js';

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

export interface CertificateMeta {
  readonly names: readonly string[];
  readonly directoryUrl: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** The order that produced it. */
  readonly lastOrder: { readonly at: string; readonly reason: 'new' | 'renew' };
}

export interface StoredCertificate {
  /** The group key, and the folder's name. */
  readonly key: string;
  readonly dir: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly meta: CertificateMeta;
  /** From the certificate itself, never from meta.json. */
  readonly names: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly issuer: string;
}

export interface StoredAccount {
  readonly keyPem: string;
  readonly url: string | null;
}

export class AcmeStorage implements AcmeStore {
  constructor(readonly root: string) {}

  get description(): string {
    return this.root;
  }

  async init(): Promise<void> {
    for (const dir of [this.root, join(this.root, 'accounts'), join(this.root, 'certificates'), join(this.root, 'holds')]) {
      await mkdir(dir, { recursive: true, mode: DIR_MODE });
    }
    // mkdir's mode applies only to folders it creates; the root may predate berth.
    await chmod(this.root, DIR_MODE);
  }

  private accountDir(directoryUrl: string): string {
    return join(this.root, 'accounts', slugOfUrl(directoryUrl));
  }

  async readAccount(directoryUrl: string): Promise<StoredAccount | null> {
    const dir = this.accountDir(directoryUrl);
    const keyPem = await readIfExists(join(dir, 'key.pem'));
    if (keyPem === null) return null;
    const json = await readIfExists(join(dir, 'account.json'));
    const url = json === null ? null : ((JSON.parse(json) as { url?: unknown }).url ?? null);
    return { keyPem, url: typeof url === 'string' ? url : null };
  }

  async writeAccountKey(directoryUrl: string, keyPem: string): Promise<void> {
    const dir = this.accountDir(directoryUrl);
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    await writeAtomic(join(dir, 'key.pem'), keyPem);
  }

  async writeAccountUrl(directoryUrl: string, url: string, email: string | null): Promise<void> {
    const dir = this.accountDir(directoryUrl);
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    await writeAtomic(join(dir, 'account.json'), JSON.stringify({ directoryUrl, url, email, createdAt: new Date().toISOString() }, null, 2) + '\n');
  }

  /** Every readable certificate folder; an unreadable one is a problem and is skipped. */
  async listCertificates(): Promise<{ certificates: StoredCertificate[]; problems: Problem[] }> {
    const base = join(this.root, 'certificates');
    const certificates: StoredCertificate[] = [];
    const problems: Problem[] = [];
    for (const entry of await readdir(base, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      try {
        const found = await this.readCertificate(entry.name);
        if (found) certificates.push(found);
      } catch (error) {
        problems.push({
          code: Codes.acmeStorage,
          message: `stored certificate ${join(base, entry.name)} is unreadable (${(error as Error).message}); it will be ordered again`,
        });
      }
    }
    return { certificates, problems };
  }

  async readCertificate(key: string): Promise<StoredCertificate | null> {
    const dir = join(this.root, 'certificates', key);
    const [certPem, keyPem, metaJson] = await Promise.all([readIfExists(join(dir, 'cert.pem')), readIfExists(join(dir, 'key.pem')), readIfExists(join(dir, 'meta.json'))]);
    if (certPem === null || keyPem === null || metaJson === null) return null;
    return storedCertificate(key, dir, certPem, keyPem, JSON.parse(metaJson) as CertificateMeta);
  }

  async writeCertificate(key: string, certPem: string, keyPem: string, meta: CertificateMeta): Promise<StoredCertificate> {
    const dir = join(this.root, 'certificates', key);
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    await writeAtomic(join(dir, 'key.pem'), keyPem);
    await writeAtomic(join(dir, 'cert.pem'), certPem);
    await writeAtomic(join(dir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
    const stored = await this.readCertificate(key);
    if (!stored) throw new Error(`${dir} is incomplete right after writing it`);
    return stored;
  }

  async readHolds(): Promise<{ holds: Map<string, Hold>; problems: Problem[] }> {
    const base = join(this.root, 'holds');
    const holds = new Map<string, Hold>();
    const problems: Problem[] = [];
    for (const name of await readdir(base)) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      try {
        const hold = JSON.parse(await readFile(join(base, name), 'utf8')) as Hold;
        if (!Array.isArray(hold.names) || typeof hold.nextTryAt !== 'string' || Number.isNaN(Date.parse(hold.nextTryAt))) throw new Error('not a hold');
        holds.set(name.slice(0, -'.json'.length), hold);
      } catch (error) {
        problems.push({ code: Codes.acmeStorage, message: `hold ${join(base, name)} is unreadable (${(error as Error).message}); ignored` });
      }
    }
    return { holds, problems };
  }

  async writeHold(key: string, hold: Hold): Promise<void> {
    await writeAtomic(join(this.root, 'holds', `${key}.json`), JSON.stringify(hold, null, 2) + '\n');
  }

  async deleteHold(key: string): Promise<void> {
    await rm(join(this.root, 'holds', `${key}.json`), { force: true });
  }
}

/** A stored certificate as read back, its facts from the certificate itself; throws when cert and key do not match. */
export function storedCertificate(key: string, dir: string, certPem: string, keyPem: string, meta: CertificateMeta): StoredCertificate {
  const leaf = new X509Certificate(certPem);
  if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('cert.pem and key.pem do not match');
  return {
    key,
    dir,
    certPem,
    keyPem,
    meta,
    names: dnsNames(leaf),
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    issuer: leaf.issuer,
  };
}

/** The DNS names of a certificate's SANs, lowercase. */
export function dnsNames(cert: X509Certificate): string[] {
  const names: string[] = [];
  for (const part of (cert.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) names.push(part.slice(4).toLowerCase());
  }
  return names;
}

/** A folder name for a directory URL: its host, readable, and a hash of the whole URL. */
export function slugOfUrl(url: string): string {
  let host = 'ca';
  try {
    host = new URL(url).host.replace(/[^a-zA-Z0-9.-]/g, '_');
  } catch {
    // an unparsable URL still gets its own folder by its hash
  }
  return `${host}-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`;
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Writes a temporary file beside path (0600, flushed to disk) and renames it over path. */
export async function writeAtomic(path: string, content: string): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', FILE_MODE);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
