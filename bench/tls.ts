// What the HTTPS benchmark needs besides its peers: one certificate made at run time, and a probe
// that says whether a peer serves it and whether it lets a client resume a TLS session.
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeSelfSigned } from '../src/certs/default.js';

/** The Host every HTTPS peer routes. */
export const TLS_APP_HOST = 'app.bench.test';
/**
 * The URL host wrk and the probe connect to. wrk sends its URL's host as SNI (an IP too, which
 * RFC 6066 forbids), and app.bench.test resolves nowhere without editing /etc/hosts; localhost
 * resolves to 127.0.0.1, so the certificate names both and every peer selects it by SNI.
 */
export const TLS_URL_HOST = 'localhost';

export interface BenchCertificate {
  readonly certPath: string;
  readonly keyPath: string;
  /** Certificate then key, in one file (HAProxy's `crt`). */
  readonly combinedPath: string;
  readonly certPem: string;
  readonly fingerprint256: string;
}

/** A self-signed EC P-256 certificate for app.bench.test and localhost, written into `dir`. */
export async function makeBenchCertificate(dir: string): Promise<BenchCertificate> {
  // A week is plenty for one run; berth's own maker, so every peer serves what berth would make.
  const { certPem, keyPem } = await makeSelfSigned([TLS_APP_HOST, TLS_URL_HOST], new Date(), 7);
  const certPath = join(dir, `${TLS_APP_HOST}.crt`);
  const keyPath = join(dir, `${TLS_APP_HOST}.key`);
  const combinedPath = join(dir, `${TLS_APP_HOST}.pem`);
  await writeFile(certPath, certPem);
  await writeFile(keyPath, keyPem, { mode: 0o600 });
  await writeFile(combinedPath, certPem + keyPem, { mode: 0o600 });
  return { certPath, keyPath, combinedPath, certPem, fingerprint256: new X509Certificate(certPem).fingerprint256 };
}

/** Status of a GET / for app.bench.test over HTTPS on a fresh connection, the certificate verified; 0 on failure. */
export function httpsStatusOf(port: number, certificate: BenchCertificate, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve) => {
    const req = https.get(
      { host: '127.0.0.1', servername: TLS_URL_HOST, port, path: '/', headers: { host: TLS_APP_HOST }, ca: certificate.certPem, agent: false, timeout: timeoutMs },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

export interface TlsFacts {
  /** Whether the peer served the run's certificate for SNI localhost. */
  readonly servedBenchCertificate: boolean;
  readonly protocol: string;
  /** Whether a second connection offering the first one's session was resumed. */
  readonly resumed: boolean;
}

/** Two handshakes (SNI localhost, no ALPN, as wrk): the first's session offered on the second. */
export async function tlsFacts(port: number, certificate: BenchCertificate): Promise<TlsFacts> {
  const first = await handshake(port, undefined);
  const second = await handshake(port, first.session);
  return { servedBenchCertificate: first.fingerprint === certificate.fingerprint256, protocol: first.protocol, resumed: second.resumed };
}

interface Handshake {
  readonly fingerprint: string;
  readonly protocol: string;
  readonly resumed: boolean;
  readonly session: Buffer | undefined;
}

function handshake(port: number, session: Buffer | undefined): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    let latest: Buffer | undefined;
    let facts: Omit<Handshake, 'session'> | undefined;
    const socket = tls.connect({ host: '127.0.0.1', port, servername: TLS_URL_HOST, rejectUnauthorized: false, ...(session ? { session } : {}) });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS handshake with :${port} within 5 s`)), 5000);
    // TLS 1.3 tickets come after the handshake: a request and its answer give them time to arrive.
    socket.on('session', (ticket: Buffer) => (latest = ticket));
    socket.once('secureConnect', () => {
      facts = { fingerprint: socket.getPeerX509Certificate()?.fingerprint256 ?? '', protocol: socket.getProtocol() ?? '?', resumed: socket.isSessionReused() };
      socket.write(`GET / HTTP/1.1\r\nHost: ${TLS_APP_HOST}\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', () => {});
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      if (facts) resolve({ ...facts, session: latest });
      else reject(new Error(`the TLS handshake with :${port} did not complete`));
    });
  });
}
