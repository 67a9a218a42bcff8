// Wiring: sources (Docker, routes file) -> route store -> proxy and admin listeners.
import { existsSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { createAdminServer } from './admin/server.js';
import type { Config } from './config/settings.js';
import { createDockerClient } from './docker/client.js';
import { DockerProvider } from './docker/provider.js';
import { RoutesFileProvider } from './file/provider.js';
import { createProxyServer } from './proxy/server.js';
import { RouteStore } from './routes/store.js';

export interface Berth {
  readonly store: RouteStore;
  readonly proxyPort: number;
  readonly adminPort: number;
  /** Graceful stop: no new connections, in-flight requests get `shutdownTimeout` to finish. */
  stop(): Promise<void>;
}

export async function startBerth(config: Config, logger: Logger): Promise<Berth> {
  if (config.routesFile !== null && !existsSync(dirname(resolve(config.routesFile)))) {
    throw new Error(`the folder of --routes-file ${config.routesFile} does not exist`);
  }
  // On the same host and path, the file (operator intent) wins over Docker.
  const store = new RouteStore(['file', 'docker']);
  store.onChange((change) => {
    logger.info({ version: change.version, added: change.added, removed: change.removed, changed: change.changed }, 'route table changed');
    for (const conflict of change.conflicts) logger.warn({ code: conflict.code }, conflict.message);
  });

  const docker = config.docker ? dockerProvider(config, store, logger) : null;
  const file = config.routesFile === null ? null : new RoutesFileProvider(config.routesFile, store, logger.child({ component: 'routes-file' }));
  let ready = false;
  void Promise.all([docker?.whenSynced(), file?.whenLoaded()]).then(() => {
    ready = true;
    logger.info('first sync of every source done; ready');
  });

  const proxy = createProxyServer({
    store,
    logger: logger.child({ component: 'proxy' }),
    trustedProxies: config.trustedProxies,
    upstreamTimeoutMs: config.upstreamTimeout,
    headerTimeoutMs: config.headerTimeout,
    idleTimeoutMs: config.idleTimeout,
  });
  const admin = createAdminServer({ store, docker, file, isReady: () => ready });

  // Listen first: the admin API reports "starting" while the first sync runs.
  const proxyPort = await listen(proxy.server, config.httpPort, undefined);
  const adminPort = await listen(admin, config.adminAddr.port, config.adminAddr.host);
  logger.info({ listener: 'proxy', port: proxyPort }, 'listening');
  logger.info({ listener: 'admin', address: config.adminAddr.host, port: adminPort }, 'listening');
  docker?.start();
  await file?.start();

  return {
    store,
    proxyPort,
    adminPort,
    async stop() {
      docker?.stop();
      await file?.stop();
      admin.close();
      admin.closeAllConnections();
      await proxy.shutdown(config.shutdownTimeout);
    },
  };
}

function dockerProvider(config: Config, store: RouteStore, logger: Logger): DockerProvider {
  return new DockerProvider({
    client: createDockerClient(config.dockerHost.address),
    address: config.dockerHost.url,
    routing: { labelPrefix: config.labelPrefix, domain: config.domain, exposedByDefault: config.exposedByDefault, network: config.network },
    store,
    logger: logger.child({ component: 'docker' }),
    resyncIntervalMs: config.resyncInterval,
    reconnect: { initialMs: 100, maxMs: 10_000 },
  });
}

function listen(server: http.Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
