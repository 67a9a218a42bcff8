// --certs-dir: every `NAME.crt` or `NAME.pem` with its `NAME.key`, watched and kept in force.
//
// Level-triggered, as the other sources: a change in the folder only says "look again"; a scan reads
// every pair and compares it with what it read last. So atomic renames, a key written after its
// certificate, or Kubernetes' secret volumes (whose files are symlinks into `..data`, swapped as a
// whole, so only the dot entries change) need no event of their own. A slow periodic scan backs the
// watcher up (network filesystems, lost events).
//
// Per pair: a bad version is a problem (logged once, with its code) and the last good version stays;
// a pair whose certificate file is deleted is removed. A deleted key alone is a problem like any bad
// key, since tools that replace both files often delete the key first.
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { Codes } from '../errors.js';
import type { Problem } from '../routes/types.js';
import { createCoalescer } from '../util/coalescer.js';
import { isKeyOnly, readCertificatePair, type CertificateProblem } from './pem.js';
import type { CertificateEntry, CertificateSource } from './types.js';

/** chokidar drops a change that follows another within 50 ms: look again once things settle. */
const TRAILING_CHECK_MS = 150;
/** A pair's problem is logged only once its files have been still this long (not half-written). */
const SETTLE_MS = 100;
const CERT_FILE = /^[^.].*\.(crt|pem)$/;

export type CertificateFolderState = 'loading' | 'ok' | 'problems' | 'unreadable';

export interface CertificateFolderStatus {
  readonly dir: string;
  /** `problems`: some pairs are not served (or served with a warning); `unreadable`: the folder itself. */
  readonly state: CertificateFolderState;
  /** Certificates in force (the last good version of each pair). */
  readonly certificates: number;
  readonly problems: readonly Problem[];
  readonly loadedAt: string | null;
  readonly scans: number;
}

export interface CertificateFolderOptions {
  readonly dir: string;
  readonly logger: Logger;
  /** Full scan besides the watcher; 0 turns it off. 30 s by default. */
  readonly resyncMs?: number;
  readonly now?: () => Date;
}

interface Pair {
  certText: string | null;
  keyText: string | null;
  /** The last good version, served while the current one is bad. */
  good: CertificateEntry | null;
  problems: readonly CertificateProblem[];
  /** The version whose problems were logged, so each version is logged once. */
  logged: string | null;
}

export class CertificateFolder implements CertificateSource {
  readonly dir: string;
  private readonly logger: Logger;
  private readonly resyncMs: number;
  private readonly now: () => Date;
  private readonly pairs = new Map<string, Pair>();
  private readonly listeners = new Set<() => void>();
  private readonly scan;
  private watcher: FSWatcher | null = null;
  private trailing: NodeJS.Timeout | null = null;
  private resync: NodeJS.Timeout | null = null;
  private lastEventAt = 0;
  private folderProblem: Problem | null = null;
  private currentEntries: readonly CertificateEntry[] = [];
  private currentProblems: readonly Problem[] = [];
  private loadedAt: string | null = null;
  private scans = 0;
  private stopped = false;
  private readonly loaded: Promise<void>;
  private markLoaded!: () => void;

  constructor(options: CertificateFolderOptions) {
    this.dir = resolve(options.dir);
    this.logger = options.logger;
    this.resyncMs = options.resyncMs ?? 30_000;
    this.now = options.now ?? (() => new Date());
    this.scan = createCoalescer(
      () => this.load(),
      (error) => this.logger.error({ code: Codes.internal, dir: this.dir, err: error }, 'scanning the certificates folder failed'),
    );
    this.loaded = new Promise((resolve) => (this.markLoaded = resolve));
  }

  /** The certificates in force, by file path. */
  get entries(): readonly CertificateEntry[] {
    return this.currentEntries;
  }

  /** Every pair's problems (each with its `file`), and the folder's own. */
  get problems(): readonly Problem[] {
    return this.currentProblems;
  }

  get status(): CertificateFolderStatus {
    const state: CertificateFolderState = this.scans === 0 ? 'loading' : this.folderProblem ? 'unreadable' : this.currentProblems.length > 0 ? 'problems' : 'ok';
    return { dir: this.dir, state, certificates: this.currentEntries.length, problems: this.currentProblems, loadedAt: this.loadedAt, scans: this.scans };
  }

  /** Called after every scan that changed the entries or the problems; returns an unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves after the first scan, whatever its outcome. */
  whenLoaded(): Promise<void> {
    return this.loaded;
  }

  async start(): Promise<void> {
    // Every entry of the folder counts, dot entries too: Kubernetes swaps `..data`, not the files.
    const watcher = watch(this.dir, { depth: 0, ignoreInitial: true, atomic: false });
    this.watcher = watcher;
    watcher.on('all', () => {
      this.lastEventAt = Date.now();
      void this.scan.request();
      if (this.trailing) clearTimeout(this.trailing);
      this.trailing = setTimeout(() => void this.scan.request(), TRAILING_CHECK_MS);
    });
    watcher.on('error', (error) => this.setFolderProblem(`${this.dir} cannot be watched (${(error as Error).message})`));
    await new Promise<void>((ready) => watcher.once('ready', ready));
    if (this.resyncMs > 0) {
      this.resync = setInterval(() => void this.scan.request(), this.resyncMs);
      this.resync.unref();
    }
    await this.scan.request();
    this.markLoaded();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.trailing) clearTimeout(this.trailing);
    if (this.resync) clearInterval(this.resync);
    await this.watcher?.close();
  }

  private async load(): Promise<void> {
    if (this.stopped) return;
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((name) => CERT_FILE.test(name)).sort();
    } catch (error) {
      // The pairs already loaded stay: a folder that vanishes for a moment (a remount) must not drop them.
      this.setFolderProblem(`${this.dir} cannot be read (${(error as Error).message})`);
      this.finishScan();
      return;
    }
    this.setFolderProblem(null);

    const seen = new Set<string>();
    for (const name of names) {
      const certPath = join(this.dir, name);
      const keyPath = join(this.dir, name.replace(/\.(crt|pem)$/, '.key'));
      const certText = await readText(certPath);
      // Gone between the listing and the read, or a folder named like a certificate.
      if (certText === undefined) continue;
      // A key saved as .pem (certbot's privkey.pem) is no certificate.
      if (typeof certText === 'string' && name.endsWith('.pem') && isKeyOnly(certText)) continue;
      seen.add(certPath);
      const keyRead = await readText(keyPath);
      this.update(certPath, keyPath, certText, keyRead);
    }
    for (const [certPath, pair] of this.pairs) {
      if (seen.has(certPath)) continue;
      this.pairs.delete(certPath);
      if (pair.good) this.logger.info({ path: certPath, names: pair.good.names }, 'certificate file deleted; its certificate is no longer served');
    }
    this.logProblems();
    this.finishScan();
  }

  /** Reads one pair into its state, if either file changed. */
  private update(certPath: string, keyPath: string, certRead: string | Error, keyRead: string | Error | undefined): void {
    const pair = this.pairs.get(certPath) ?? { certText: null, keyText: null, good: null, problems: [], logged: null };
    this.pairs.set(certPath, pair);
    if (certRead instanceof Error) {
      pair.certText = null;
      pair.problems = [{ code: Codes.certFile, file: certPath, message: `${certPath} cannot be read (${certRead.message})`, fix: 'make it readable by berth' }];
      return;
    }
    if (keyRead instanceof Error) {
      pair.keyText = null;
      pair.problems = [{ code: Codes.certKey, file: keyPath, message: `${keyPath} cannot be read (${keyRead.message})`, fix: 'make it readable by berth (and by nobody else)' }];
      return;
    }
    const keyText = keyRead ?? null;
    if (certRead === pair.certText && keyText === pair.keyText) return;
    pair.certText = certRead;
    pair.keyText = keyText;
    const reading = readCertificatePair({ certText: certRead, certPath, keyText, keyPath, source: 'file', now: this.now() });
    pair.problems = reading.problems;
    if (reading.entry) {
      const renewed = pair.good !== null;
      pair.good = reading.entry;
      this.logger.info({ path: certPath, names: reading.entry.names, notAfter: reading.entry.notAfter.toISOString(), issuer: reading.entry.issuer }, renewed ? 'certificate replaced' : 'certificate loaded');
    }
  }

  /** Logs each pair's problems once per version of its files, once they have stopped changing. */
  private logProblems(): void {
    const settled = Date.now() - this.lastEventAt >= SETTLE_MS;
    for (const pair of this.pairs.values()) {
      const version = pair.problems.length === 0 ? null : `${pair.certText}\u0000${pair.keyText}\u0000${pair.problems.map((p) => p.message).join('\u0000')}`;
      if (version === pair.logged) continue;
      if (version === null) {
        pair.logged = null;
        continue;
      }
      if (!settled) continue;
      pair.logged = version;
      for (const problem of pair.problems) {
        const fields = { code: problem.code, path: problem.file, fix: problem.fix };
        if (problem.code.startsWith('BERTH_W_')) this.logger.warn(fields, problem.message);
        else this.logger.error({ ...fields, serving: pair.good ? pair.good.origin : null }, pair.good ? `${problem.message}; the last good version stays` : problem.message);
      }
    }
  }

  private setFolderProblem(message: string | null): void {
    if (message === null) {
      if (this.folderProblem) this.logger.info({ dir: this.dir }, 'certificates folder readable again');
      this.folderProblem = null;
      return;
    }
    if (this.folderProblem?.message === message) return;
    this.folderProblem = { code: Codes.certsDir, message, fix: 'check that the folder exists and that berth may read it; the certificates already loaded stay' };
    this.logger.error({ code: Codes.certsDir, dir: this.dir }, message);
  }

  private finishScan(): void {
    this.scans += 1;
    this.loadedAt = this.now().toISOString();
    const entries = [...this.pairs.values()].flatMap((pair) => (pair.good ? [pair.good] : []));
    const problems: Problem[] = [...(this.folderProblem ? [this.folderProblem] : []), ...[...this.pairs.values()].flatMap((pair) => pair.problems)];
    const entriesChanged = entries.length !== this.currentEntries.length || entries.some((entry, i) => entry !== this.currentEntries[i]);
    const problemsChanged = JSON.stringify(problems) !== JSON.stringify(this.currentProblems);
    this.currentEntries = entries;
    this.currentProblems = problems;
    if (!entriesChanged && !problemsChanged) return;
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.logger.error({ code: Codes.internal, err: error }, 'a certificate listener failed');
      }
    }
  }
}

/** A file's text; undefined when it does not exist (or is a folder); the error when it cannot be read. */
async function readText(path: string): Promise<string | Error | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') return undefined;
    return error as Error;
  }
}
