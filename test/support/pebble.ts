// Let's Encrypt's ACME test server, Debian's pebble, with pebble-challtestsrv as its DNS, both on
// loopback only: every name resolves to 127.0.0.1, so Pebble validates against the test's own
// challenge responders and never reaches outside.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { freeLoopbackPort } from './ports.js';
import { waitFor } from './wait.js';

export interface PebbleOptions {
  /** Where Pebble validates http-01 (the test's HTTP responder). */
  httpPort: number;
  /** Where Pebble validates tls-alpn-01 (the test's TLS responder). */
  tlsPort: number;
  /** Lifetime of issued certificates in seconds (Pebble's default is five years). */
  certificateValiditySeconds?: number;
}

export class Pebble {
  private constructor(
    readonly dir: string,
    /** The ACME directory URL. */
    readonly directoryUrl: string,
    /** The CA of Pebble's own HTTPS API certificate: what an ACME client must trust. */
    readonly apiCaPem: string,
    /** An https.Agent that trusts the API's CA, for the test's own requests to Pebble. */
    readonly agent: Agent,
    private readonly managementUrl: string,
    private readonly children: ChildProcess[],
  ) {}

  static async start(options: PebbleOptions): Promise<Pebble> {
    const dir = await mkdtemp(join(tmpdir(), 'berth-pebble-'));
    const children: ChildProcess[] = [];
    try {
      const api = await apiCertificate();
      await writeFile(join(dir, 'api-ca.pem'), api.caPem);
      await writeFile(join(dir, 'api-cert.pem'), api.certPem);
      await writeFile(join(dir, 'api-key.pem'), api.keyPem, { mode: 0o600 });

      const [acmePort, managementPort, dnsPort, challManagementPort] = await Promise.all([
        freeLoopbackPort(),
        freeLoopbackPort(),
        freeLoopbackPort(),
        freeLoopbackPort(),
      ]);
      const config = {
        pebble: {
          listenAddress: `127.0.0.1:${acmePort}`,
          managementListenAddress: `127.0.0.1:${managementPort}`,
          certificate: join(dir, 'api-cert.pem'),
          privateKey: join(dir, 'api-key.pem'),
          httpPort: options.httpPort,
          tlsPort: options.tlsPort,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
          ...(options.certificateValiditySeconds ? { certificateValidityPeriod: options.certificateValiditySeconds } : {}),
        },
      };
      await writeFile(join(dir, 'pebble-config.json'), JSON.stringify(config, null, 2));

      // challtestsrv only as DNS: its own challenge servers are off, so they take no ports.
      children.push(
        launch(dir, 'challtestsrv', '/usr/bin/pebble-challtestsrv', [
          '-defaultIPv4', '127.0.0.1',
          '-defaultIPv6', '',
          '-dns01', `127.0.0.1:${dnsPort}`,
          '-http01', '',
          '-https01', '',
          '-tlsalpn01', '',
          '-management', `127.0.0.1:${challManagementPort}`,
        ]),
      );
      children.push(
        launch(dir, 'pebble', '/usr/bin/pebble', ['-config', join(dir, 'pebble-config.json'), '-dnsserver', `127.0.0.1:${dnsPort}`, '-strict=false'], {
          PEBBLE_VA_NOSLEEP: '1',
          PEBBLE_WFE_NONCEREJECT: '0',
          // Reused authorizations would let a test pass without its responder answering.
          PEBBLE_AUTHZREUSE: '0',
        }),
      );

      const agent = new Agent({ ca: api.caPem, keepAlive: false });
      const pebble = new Pebble(dir, `https://127.0.0.1:${acmePort}/dir`, api.caPem, agent, `https://127.0.0.1:${managementPort}`, children);
      await waitFor(
        async () => {
          for (const child of children) if (child.exitCode !== null) throw new Error(`a child exited with ${child.exitCode}; see ${dir}`);
          return (await pebble.get(pebble.directoryUrl)).includes('newOrder');
        },
        { what: `Pebble answering at ${pebble.directoryUrl} (logs in ${dir})`, timeoutMs: 15_000 },
      );
      return pebble;
    } catch (error) {
      await stopAll(children);
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The settings that point berth at this Pebble, its ACME files kept in `storage`. */
  berthArgs(storage: string): string[] {
    return ['--acme-email', 'ops@berth.test', '--acme-ca', this.directoryUrl, '--acme-storage', storage];
  }

  /** The environment berth needs to trust Pebble's own API certificate. */
  berthEnv(): NodeJS.ProcessEnv {
    return { NODE_EXTRA_CA_CERTS: join(this.dir, 'api-ca.pem') };
  }

  /** The root that signs issued certificates (regenerated at every start). */
  root(): Promise<string> {
    return this.get(`${this.managementUrl}/roots/0`);
  }

  /** The intermediate that signs issued certificates. */
  intermediate(): Promise<string> {
    return this.get(`${this.managementUrl}/intermediates/0`);
  }

  /** Pebble's log, for a failing test's message. */
  log(): Promise<string> {
    return readFile(join(this.dir, 'pebble.log'), 'utf8').catch(() => '');
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    await stopAll(this.children);
    await rm(this.dir, { recursive: true, force: true });
  }

  private get(url: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(url, { agent: this.agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url} answered ${res.statusCode}: ${body}`))));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }
}

function launch(dir: string, name: string, command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const log = openSync(join(dir, `${name}.log`), 'a');
  try {
    // No proxy variables: Pebble must talk to loopback only.
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/_proxy$/i.test(key)));
    const child = spawn(command, args, { cwd: dir, env: { ...clean, ...env }, stdio: ['ignore', log, log] });
    child.on('error', () => {}); // a missing binary shows as exitCode in the readiness wait
    return child;
  } finally {
    closeSync(log);
  }
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** A throwaway CA and a certificate for 127.0.0.1 and localhost signed by it, for Pebble's API. */
async function apiCertificate(): Promise<{ caPem: string; certPem: string; keyPem: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const caKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const now = Date.now();
  const notBefore = new Date(now - 60_000);
  const notAfter = new Date(now + 24 * 3600_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=berth test Pebble API CA',
    notBefore,
    notAfter,
    keys: caKeys as unknown as x509.X509CertificateCreateSelfSignedParams['keys'],
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const serverKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=localhost',
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', serverKeys.privateKey);
  return { caPem: ca.toString('pem'), certPem: server.toString('pem'), keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}
