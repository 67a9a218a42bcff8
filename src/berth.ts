// Wiring: Docker provider -> route store -> proxy and admin listeners.
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import type { Logger } from 'pino';
import { createAdminServer } from './admin/server.js';
import type { Config } from './config/settings.js';
import { createDockerClient } from './docker/client.js';
import { DockerProvider } from './docker/provider.js';
import { createProxyServer } from './proxy/server.js';
import { RouteStore } from './routes/store.js';

export interface Berth {
  readonly store: RouteStore;
  readonly docker: DockerProvider;
  readonly proxyPort: number;
  readonly adminPort: number;
  /** Graceful stop: no new connections, in-flight requests get `shutdownTimeout` to finish. */
  stop(): Promise<void>;
}

export async function startBerth(config: Config, logger: Logger): Promise<Berth> {
  const store = new RouteStore(['file', 'docker']);
  store.onChange((change) => {
    logger.info({ version: change.version, added: change.added, removed: change.removed, changed: change.changed }, 'route table changed');
    for (const conflict of change.conflicts) logger.warn({ code: conflict.code }, conflict.message);
  });

  const docker = new DockerProvider({
    client: createDockerClient(config.dockerHost.address),
    address: config.dockerHost.url,
    routing: { labelPrefix: config.labelPrefix, domain: config.domain, exposedByDefault: config.exposedByDefault, network: config.network },
    store,
    logger: logger.child({ component: 'docker' }),
    resyncIntervalMs: config.resyncInterval,
    reconnect: { initialMs: 100, maxMs: 10_000 },
  });
  let ready = false;
  void docker.whenSynced().then(() => {
    ready = true;
    logger.info('first Docker sync done; ready');
  });

  const proxy = createProxyServer({
    store,
    logger: logger.child({ component: 'proxy' }),
    trustedProxies: config.trustedProxies,
    upstreamTimeoutMs: config.upstreamTimeout,
    headerTimeoutMs: config.headerTimeout,
    idleTimeoutMs: config.idleTimeout,
  });
  const admin = createAdminServer({ store, docker, isReady: () => ready });

  // Listen first: the admin API reports "starting" while the first sync runs.
  const proxyPort = await listen(proxy.server, config.httpPort, undefined);
  const adminPort = await listen(admin, config.adminAddr.port, config.adminAddr.host);
  logger.info({ listener: 'proxy', port: proxyPort }, 'listening');
  logger.info({ listener: 'admin', address: config.adminAddr.host, port: adminPort }, 'listening');
  docker.start();

  return {
    store,
    docker,
    proxyPort,
    adminPort,
    async stop() {
      docker.stop();
      admin.close();
      admin.closeAllConnections();
      await proxy.shutdown(config.shutdownTimeout);
    },
  };
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
