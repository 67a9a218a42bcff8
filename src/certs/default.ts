// The certificate for names nothing covers, and for clients that send no SNI: self-signed, made once
// and kept in a folder so that restarts (and every worker) serve the same one. No client trusts it;
// it exists so that a handshake for an unknown name completes and the client sees berth's 404, and so
// that no real certificate is handed to a client that did not ask for its name.
import { randomBytes, webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { Codes } from '../errors.js';
import type { Problem } from '../routes/types.js';
import { readCertificatePair } from './pem.js';
import type { CertificateEntry } from './types.js';

export const DEFAULT_NAME = 'berth-default';
/** Its lifetime only keeps its fingerprint stable: nobody trusts it, so nothing is gained by renewing it often. */
const VALID_DAYS = 3650;
/** Renewed when less than this is left, so that a long-running berth does not cross its end date. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

// @peculiar/x509 types its crypto with the DOM's names; Node's webcrypto is that API.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface DefaultCertificate {
  readonly entry: CertificateEntry;
  /** Whether it was made now (false: read from the folder). */
  readonly created: boolean;
  /** Why it was made anew, or could not be stored: `BERTH_E_CERT_DEFAULT`. */
  readonly problems: readonly Problem[];
}

export interface DefaultCertificateOptions {
  /** The folder of `default.crt` and `default.key`; created (mode 0700) when missing. */
  readonly dir: string;
  readonly now?: () => Date;
}

/** A new self-signed EC P-256 certificate for `berth-default` (or the names given, the first as CN), as PEM. */
export async function makeSelfSigned(names: string | readonly string[] = DEFAULT_NAME, now: Date = new Date(), days: number = VALID_DAYS): Promise<{ certPem: string; keyPem: string }> {
  const all = typeof names === 'string' ? [names] : names;
  const name = all[0]!;
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    // Positive and unique: clients that cache by issuer and serial must not confuse two of them.
    serialNumber: '01' + randomBytes(15).toString('hex'),
    name: `CN=${name}`,
    // An hour back tolerates clients whose clocks are a little behind.
    notBefore: new Date(now.getTime() - 3600_000),
    notAfter: new Date(now.getTime() + days * 24 * 3600 * 1000),
    keys: keys as unknown as x509.X509CertificateCreateSelfSignedParams['keys'],
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(all.map((value) => ({ type: 'dns' as const, value }))),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: cert.toString('pem') + '\n', keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n' };
}

/**
 * The default certificate kept in `dir`: read if both files are there, match and are valid for more
 * than 30 days; otherwise made anew and written (mode 0600, by rename, so a reader never sees half a
 * file). When the folder cannot be written, the new one is served from memory with a problem.
 */
export async function loadDefaultCertificate({ dir, now = () => new Date() }: DefaultCertificateOptions): Promise<DefaultCertificate> {
  const certPath = join(dir, 'default.crt');
  const keyPath = join(dir, 'default.key');
  const problems: Problem[] = [];

  const existing = await readExisting(certPath, keyPath, now());
  if (existing.entry) return { entry: existing.entry, created: false, problems: [] };
  if (existing.why) problems.push({ code: Codes.certDefault, message: `${existing.why}; a new default certificate is made`, fix: 'nothing to do, unless this repeats on every start: then make the folder writable by berth' });

  const made = await makeSelfSigned(DEFAULT_NAME, now());
  const entry = toEntry(made.certPem, made.keyPem, certPath, keyPath, now());
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeSecret(keyPath, made.keyPem);
    await writeSecret(certPath, made.certPem);
  } catch (error) {
    problems.push({ code: Codes.certDefault, message: `the default certificate cannot be stored in ${dir} (${(error as Error).message}); it is served from memory and changes on every start`, fix: `make ${dir} writable by berth` });
  }
  return { entry, created: true, problems };
}

/** Where replicas sharing ACME storage keep one default certificate (Redis: the first one written wins). */
export interface DefaultKeeper {
  readonly description: string;
  readDefault(): Promise<{ certPem: string; keyPem: string } | null>;
  writeDefault(pair: { certPem: string; keyPem: string }, replace: boolean): Promise<void>;
}

/** The default certificate kept in shared storage, so every replica serves the same one; from memory when it is away. */
export async function loadSharedDefaultCertificate(keeper: DefaultKeeper, now: () => Date = () => new Date()): Promise<DefaultCertificate> {
  const origin = `${keeper.description} (default)`;
  const usable = (pair: { certPem: string; keyPem: string } | null): CertificateEntry | undefined => {
    if (!pair) return undefined;
    const reading = readCertificatePair({ certText: pair.certPem, certPath: origin, keyText: pair.keyPem, keyPath: origin, source: 'default', now: now() });
    return reading.entry && reading.entry.notAfter.getTime() - now().getTime() >= RENEW_BEFORE_MS ? reading.entry : undefined;
  };
  const problems: Problem[] = [];
  let stored: { certPem: string; keyPem: string } | null = null;
  try {
    stored = await keeper.readDefault();
    const entry = usable(stored);
    if (entry) return { entry, created: false, problems: [] };
  } catch (error) {
    const made = await makeSelfSigned(DEFAULT_NAME, now());
    const message = `the default certificate cannot be read from ${keeper.description} (${(error as Error).message}); it is served from memory and differs between replicas until berth restarts`;
    problems.push({ code: Codes.certDefault, message, fix: 'check that the ACME storage answers' });
    return { entry: toEntry(made.certPem, made.keyPem, origin, origin, now()), created: true, problems };
  }
  const made = await makeSelfSigned(DEFAULT_NAME, now());
  let pair = made;
  try {
    // A replica that starts at the same time may write first: serve whichever is kept.
    await keeper.writeDefault(made, stored !== null);
    pair = (await keeper.readDefault()) ?? made;
    if (!usable(pair)) pair = made;
  } catch (error) {
    problems.push({ code: Codes.certDefault, message: `the default certificate cannot be stored in ${keeper.description} (${(error as Error).message}); it is served from memory`, fix: 'check that the ACME storage answers' });
  }
  return { entry: toEntry(pair.certPem, pair.keyPem, origin, origin, now()), created: pair === made, problems };
}

async function readExisting(certPath: string, keyPath: string, now: Date): Promise<{ entry?: CertificateEntry; why?: string }> {
  let certText: string;
  let keyText: string;
  try {
    [certText, keyText] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // The first start: nothing to say.
    if (code === 'ENOENT') return {};
    return { why: `the stored default certificate cannot be read (${(error as Error).message})` };
  }
  const reading = readCertificatePair({ certText, certPath, keyText, keyPath, source: 'default', now });
  const error = reading.problems.find((problem) => problem.code.startsWith('BERTH_E_'));
  if (!reading.entry) return { why: `the stored default certificate is unusable: ${error?.message ?? 'unknown'}` };
  if (reading.entry.notAfter.getTime() - now.getTime() < RENEW_BEFORE_MS) return { why: `the stored default certificate ends on ${reading.entry.notAfter.toISOString()}` };
  return { entry: reading.entry };
}

function toEntry(certPem: string, keyPem: string, certPath: string, keyPath: string, now: Date): CertificateEntry {
  const reading = readCertificatePair({ certText: certPem, certPath, keyText: keyPem, keyPath, source: 'default', now });
  // A certificate berth has just made is always readable; anything else is a bug worth its stack.
  if (!reading.entry) throw new Error(`the default certificate berth made is unreadable: ${reading.problems[0]?.message}`);
  return reading.entry;
}

/** Writes a file readable by its owner alone, replacing any other atomically. */
async function writeSecret(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, text, { mode: 0o600, flag: 'wx' });
    // The umask can only narrow the mode; this makes it exactly 0600 whatever the umask.
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
