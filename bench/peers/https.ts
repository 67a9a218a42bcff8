// The HTTPS peers: nginx, HAProxy, Caddy and berth terminating TLS for app.bench.test with the run's
// one certificate, and forwarding over plain HTTP to the same origin as the throughput bench. Each
// is told not to resume TLS sessions, so a new connection is a full handshake for all of them.
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launchBerth } from '../berth.js';
import { freePort } from '../ports.js';
import { spawnChild } from '../processes.js';
import { httpsStatusOf, TLS_APP_HOST, type BenchCertificate } from '../tls.js';
import { renderConfig } from './config.js';
import { servingPeer, type Peer, type PeerSetup } from './peer.js';

export interface HttpsPeerSetup extends PeerSetup {
  readonly certificate: BenchCertificate;
}

export type HttpsStarter = (setup: HttpsPeerSetup) => Promise<Peer>;

const serving = (name: string, port: number, child: Parameters<typeof servingPeer>[2], setup: HttpsPeerSetup) =>
  servingPeer(name, port, child, (p) => httpsStatusOf(p, setup.certificate));

/** Not a proxy: TLS and a 200 from memory in one nginx worker, a reference for what TLS alone costs here. */
export const startTlsCeiling: HttpsStarter = async (setup) => {
  const port = await freePort();
  const { certPath, keyPath } = setup.certificate;
  const config = await renderConfig('origin-https-nginx.conf', setup.dir, { DIR: setup.dir, PORT: port, CERT: certPath, KEY: keyPath });
  return serving(TLS_CEILING, port, spawnChild('nginx', ['-e', '/dev/null', '-c', config]), setup);
};

export const TLS_CEILING = 'TLS alone (nginx answering itself, 1 worker)';

export const startNginxHttps: HttpsStarter = async (setup) => {
  const port = await freePort();
  const { certPath, keyPath } = setup.certificate;
  const config = await renderConfig('nginx-https.conf', setup.dir, { DIR: setup.dir, PORT: port, ORIGIN_PORT: setup.originPort, CERT: certPath, KEY: keyPath });
  return serving('nginx', port, spawnChild('nginx', ['-e', '/dev/null', '-c', config]), setup);
};

export const startHaproxyHttps: HttpsStarter = async (setup) => {
  const port = await freePort();
  const config = await renderConfig('haproxy-https.cfg', setup.dir, { PORT: port, ORIGIN_PORT: setup.originPort, PEM: setup.certificate.combinedPath });
  return serving('HAProxy', port, spawnChild('haproxy', ['-q', '-f', config]), setup);
};

// JSON, not a Caddyfile: the Caddyfile has no way to turn session tickets off.
export const startCaddyHttps: HttpsStarter = async (setup) => {
  const port = await freePort();
  const { certPath, keyPath } = setup.certificate;
  const config = await renderConfig('caddy-https.json', setup.dir, { DIR: setup.dir, PORT: port, ORIGIN_PORT: setup.originPort, CERT: certPath, KEY: keyPath });
  const child = spawnChild('caddy', ['run', '--config', config], { env: { HOME: setup.dir, XDG_DATA_HOME: setup.dir, XDG_CONFIG_HOME: setup.dir } });
  return serving('Caddy', port, child, setup);
};

/**
 * berth with no Docker: a routes file sends app.bench.test to the origin (a route without `tls`
 * is served on both ports), and --certs-dir holds the one certificate. berth has no setting for
 * session tickets; Node reads OpenSSL's configuration (the `nodejs_conf` section), where
 * NumTickets = 0 stops TLS 1.3 tickets and -SessionTicket TLS 1.2 ones, as the peers' settings do.
 */
export const startBerthHttps: HttpsStarter = (setup) => startBerthHttpsWith(setup, 1);

/** The same with `--workers 2` (or another count), named `berth --workers N`. */
export const berthHttpsWorkers = (workers: number, nodeOptions: readonly string[] = []): HttpsStarter => (setup) => startBerthHttpsWith(setup, workers, nodeOptions);

export const berthHttpsName = (workers: number) => (workers > 1 ? `berth --workers ${workers}` : 'berth');

async function startBerthHttpsWith(setup: HttpsPeerSetup, workers: number, nodeOptions: readonly string[] = []): Promise<Peer> {
  const own = await mkdtemp(join(setup.dir, 'berth-https-'));
  const certs = join(own, 'certs');
  await mkdir(certs);
  const { certPath, keyPath } = setup.certificate;
  await copyFile(certPath, join(certs, `${TLS_APP_HOST}.crt`));
  await copyFile(keyPath, join(certs, `${TLS_APP_HOST}.key`));
  const routes = join(own, 'routes.yml');
  await writeFile(routes, `routes:\n  - host: ${TLS_APP_HOST}\n    to: http://127.0.0.1:${setup.originPort}\n`);
  const openssl = join(own, 'openssl.cnf');
  await writeFile(openssl, ['nodejs_conf = nodejs_init', '[nodejs_init]', 'ssl_conf = ssl_sect', '[ssl_sect]', 'system_default = no_resumption', '[no_resumption]', 'NumTickets = 0', 'Options = -SessionTicket', ''].join('\n'));
  const httpsPort = await freePort();
  const berth = await launchBerth({
    args: ['--no-docker', '--routes-file', routes, '--https-port', String(httpsPort), '--certs-dir', certs, '--acme-storage', join(own, 'storage'), '--access-log=false', '--workers', String(workers)],
    logFile: join(own, 'berth.log'),
    nodeOptions: [`--openssl-config=${openssl}`, ...nodeOptions],
  });
  return serving(berthHttpsName(workers), httpsPort, { pid: berth.pid, stop: () => berth.stop() }, setup);
}
