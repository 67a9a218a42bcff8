// PEM text -> CertificateEntry, with a problem for everything that keeps a pair from being served.
// Pure: the caller reads the files and passes their text and paths (the paths are only named in messages).
//
// What is decided here:
// - The leaf comes first in the certificate file, its chain after it. A key that matches a later
//   certificate rather than the first is a mismatch whose message says to put the leaf first.
// - Names are the leaf's DNS SANs, lowercase; the subject CN is used only when there is no DNS SAN.
// - An expired (or not yet valid) certificate is a warning, not an error: it is still served, since
//   the default certificate would fail the client just the same and hide which file is at fault; the
//   index prefers any valid certificate for the name, and the ACME side may order one.
// - A chain out of order is a warning too: some clients build the path themselves.
// - Encrypted keys are refused: berth has nowhere to get a passphrase from.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { Codes } from '../errors.js';
import type { Problem } from '../routes/types.js';
import type { CertificateEntry, CertificateOrigin } from './types.js';

/** A problem with one certificate pair, naming the file at fault. */
export interface CertificateProblem extends Problem {
  /** The file the problem is about (the certificate, or its key). */
  readonly file: string;
}

export interface CertificateReading {
  /** What can be served; null when an error (an `_E_` code) keeps the pair from being served. */
  readonly entry: CertificateEntry | null;
  /** Errors and warnings (`_W_` codes: the entry is still served). */
  readonly problems: readonly CertificateProblem[];
}

export interface PemInput {
  readonly certText: string;
  readonly certPath: string;
  /** The key's text; when null, a private key inside the certificate file is used, if there is one. */
  readonly keyText: string | null;
  /** The key file's path, for messages; the path it would have when keyText is null. */
  readonly keyPath: string;
  readonly source: CertificateOrigin;
  /** The time expiry is judged against; now by default. */
  readonly now?: Date;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----/g;
// PKCS#8 (PRIVATE KEY, ENCRYPTED PRIVATE KEY), PKCS#1 (RSA PRIVATE KEY) and SEC1 (EC PRIVATE KEY).
const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----\r?\n[\s\S]*?-----END \1-----/;
const DNS_NAME = /^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/;

/** Whether a PEM text holds a private key and no certificate (a key file, e.g. certbot's privkey.pem). */
export function isKeyOnly(text: string): boolean {
  return KEY_BLOCK.test(text) && !text.includes('-----BEGIN CERTIFICATE-----');
}

/** The certificates of a PEM text, in order; each block ends with a newline. */
export function certificateBlocks(text: string): string[] {
  return [...text.matchAll(CERT_BLOCK)].map((match) => match[0].replace(/\r\n/g, '\n') + '\n');
}

/** Reads one certificate file (leaf, then chain) and its key into an entry. */
export function readCertificatePair(input: PemInput): CertificateReading {
  const { certPath, keyPath } = input;
  const problems: CertificateProblem[] = [];
  const fail = (problem: CertificateProblem): CertificateReading => ({ entry: null, problems: [...problems, problem] });

  const blocks = certificateBlocks(input.certText);
  if (blocks.length === 0) {
    const looksBinary = input.certText.includes('\u0000') || input.certText.includes('\ufffd');
    return fail({
      code: Codes.certFile,
      file: certPath,
      message: `${certPath} holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" block)${looksBinary ? '; it looks like DER' : ''}`,
      fix: looksBinary ? 'convert it to PEM (`openssl x509 -inform der -in FILE -out FILE.crt`)' : 'put the PEM certificate, then its chain, in this file',
    });
  }
  const chain: X509Certificate[] = [];
  for (const [index, block] of blocks.entries()) {
    try {
      chain.push(new X509Certificate(block));
    } catch (error) {
      return fail({ code: Codes.certFile, file: certPath, message: `${certPath}: certificate #${index + 1} cannot be read (${(error as Error).message})`, fix: 'replace the file with a valid PEM certificate' });
    }
  }
  const leaf = chain[0]!;

  const keyText = input.keyText ?? input.certText;
  const keyBlock = KEY_BLOCK.exec(keyText);
  if (!keyBlock) {
    if (input.keyText === null) {
      return fail({ code: Codes.certNoKey, file: certPath, message: `${certPath} has no key: there is no ${keyPath}, and the file holds no private key`, fix: `put the certificate's private key in ${keyPath}` });
    }
    return fail({ code: Codes.certKey, file: keyPath, message: `${keyPath} holds no PEM private key (no "-----BEGIN PRIVATE KEY-----" block)`, fix: 'put the PEM private key of the certificate in this file' });
  }
  const keyPem = keyBlock[0].replace(/\r\n/g, '\n') + '\n';
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (error) {
    const encrypted = keyBlock[1] === 'ENCRYPTED PRIVATE KEY' || (error as NodeJS.ErrnoException).code === 'ERR_MISSING_PASSPHRASE';
    return fail(
      encrypted
        ? { code: Codes.certKey, file: keyPath, message: `${keyPath} is encrypted; berth reads unencrypted keys only`, fix: 'decrypt it (`openssl pkey -in KEY -out KEY`) and keep the file readable by berth alone' }
        : { code: Codes.certKey, file: keyPath, message: `${keyPath}: the private key cannot be read (${(error as Error).message})`, fix: 'replace the file with the certificate\'s PEM private key' },
    );
  }
  if (!leaf.checkPrivateKey(key)) {
    const matching = chain.findIndex((cert) => cert.checkPrivateKey(key));
    return fail(
      matching > 0
        ? { code: Codes.certKeyMismatch, file: certPath, message: `${keyPath} belongs to certificate #${matching + 1} of ${certPath}, not to the first: the leaf must come first`, fix: 'put the server\'s own certificate first, then its chain' }
        : { code: Codes.certKeyMismatch, file: keyPath, message: `${keyPath} is not the key of ${certPath} (the certificate's public key does not match it)`, fix: 'put the key this certificate was issued for next to it, or the certificate issued for this key' },
    );
  }

  // After the key: a chain put before its leaf would otherwise be reported as a nameless certificate.
  const names = namesOf(leaf);
  if (names.length === 0) {
    return fail({ code: Codes.certFile, file: certPath, message: `${certPath}: the certificate names no DNS host (no DNS subject alternative name, and no host name as its common name)`, fix: 'issue it for the host names it must serve' });
  }

  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i]!.checkIssued(chain[i + 1]!)) {
      problems.push({ code: Codes.certChain, file: certPath, message: `${certPath}: certificate #${i + 2} did not issue certificate #${i + 1}; the chain is out of order or holds a stranger`, fix: 'order the file leaf first, then each issuer after the certificate it signed' });
      break;
    }
  }

  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  const now = input.now ?? new Date();
  if (now.getTime() > notAfter.getTime()) {
    problems.push({ code: Codes.certExpired, file: certPath, message: `${certPath} expired on ${notAfter.toISOString()}; still served while no valid certificate covers ${names.join(', ')}`, fix: 'renew it; berth picks up the new file without a restart' });
  } else if (now.getTime() < notBefore.getTime()) {
    problems.push({ code: Codes.certExpired, file: certPath, message: `${certPath} is not valid before ${notBefore.toISOString()}; still served while no valid certificate covers ${names.join(', ')}`, fix: 'check the clock of this machine, or of the one that issued the certificate' });
  }

  const entry: CertificateEntry = {
    names,
    source: input.source,
    certPem: blocks.join(''),
    keyPem,
    notBefore,
    notAfter,
    issuer: leaf.issuer,
    origin: certPath,
  };
  return { entry, problems };
}

/** The certificate's DNS names, lowercase and without duplicates: its DNS SANs, else its subject CN. */
export function namesOf(cert: X509Certificate): string[] {
  const fromSans = dnsSans(cert.subjectAltName);
  if (fromSans.length > 0) return fromSans;
  const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1]?.trim().toLowerCase().replace(/\.$/, '');
  return cn && DNS_NAME.test(cn) ? [cn] : [];
}

function dnsSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const names = new Set<string>();
  // Node joins entries with ", " and quotes any value holding a comma or quote (never a valid DNS name).
  for (const part of subjectAltName.split(', ')) {
    if (!part.startsWith('DNS:')) continue;
    const name = part.slice(4).toLowerCase().replace(/\.$/, '');
    if (DNS_NAME.test(name)) names.add(name);
  }
  return [...names];
}
