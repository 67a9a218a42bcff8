// One process: sources -> route store -> proxy and admin listeners.
import type { Logger } from 'pino';
import { createMetrics } from './admin/metrics.js';
import { createAdminServer } from './admin/server.js';
import type { Config } from './config/settings.js';
import { listen, type ListenTarget } from './listen.js';
import { createAccessLog } from './proxy/access-log.js';
import { combineObservers, type ProxyObserver } from './proxy/observer.js';
import { createProxyServer, type HttpsCertificates, type ProxyServer } from './proxy/server.js';
import type { RouteStore } from './routes/store.js';
import type { ChallengeAnswers } from './certs/types.js';
import { createSources } from './sources/create.js';

export interface Berth {
  readonly proxyPort: number;
  /** Null when HTTPS is off. */
  readonly httpsPort: number | null;
  readonly adminPort: number;
  /** Graceful stop: no new connections, in-flight requests get `shutdownTimeout` to finish. */
  stop(): Promise<void>;
}

export async function startBerth(config: Config, logger: Logger): Promise<Berth> {
  const sources = await createSources(config, logger);
  const { store } = sources;
  let ready = false;
  void sources.synced.then(() => {
    ready = true;
    logger.info('first sync of every source done; ready');
  });

  // Loaded only with HTTPS on: acme-client and the X.509 library cost start-up time.
  const tls = config.httpsPort === null ? null : await (await import('./certs/start.js')).startCertificates(config, store, logger);
  const metrics = createMetrics(store, sources.list, tls ? () => tls.certificates.statuses(store) : null);
  const proxy = createProxy(config, store, logger, metrics.observer, tls);
  const admin = createAdminServer({
    store,
    sources: sources.list,
    metrics,
    certificates: tls ? () => tls.certificates.statuses(store) : null,
    ...(tls ? { onCertificatesChange: (listener: () => void) => tls.certificates.onChange(listener) } : {}),
    isReady: () => ready,
    token: config.adminToken,
    workers: null,
    logger: logger.child({ component: 'admin' }),
  });

  // Listen first: the admin API reports "starting" while the first sync runs.
  const proxyPort = await listen(proxy.server, proxyTarget(config), logger);
  const httpsPort = proxy.httpsServer ? await listen(proxy.httpsServer, httpsTarget(config), logger) : null;
  const adminPort = await listen(admin.server, adminTarget(config), logger);
  logger.info({ listener: 'proxy', port: proxyPort }, 'listening');
  if (httpsPort !== null) logger.info({ listener: 'https', port: httpsPort }, 'listening');
  logger.info({ listener: 'admin', address: config.adminAddr.host, port: adminPort }, 'listening');
  await sources.start();

  return {
    proxyPort,
    httpsPort,
    adminPort,
    async stop() {
      await sources.stop();
      admin.close();
      await proxy.shutdown(config.shutdownTimeout);
      await tls?.stop();
    },
  };
}

export const proxyTarget = (config: Config): ListenTarget => ({ port: config.httpPort, host: undefined, setting: 'http-port' });
export const httpsTarget = (config: Config): ListenTarget => ({ port: config.httpsPort ?? 0, host: undefined, setting: 'https-port' });
export const adminTarget = (config: Config): ListenTarget => ({ port: config.adminAddr.port, host: config.adminAddr.host, setting: 'admin-addr' });

/** The proxy listener with the access log and metrics the settings ask for. */
export function createProxy(config: Config, store: RouteStore, logger: Logger, metrics: ProxyObserver, tls: { readonly certificates: HttpsCertificates; readonly challenges: ChallengeAnswers } | null = null): ProxyServer {
  const accessLog = config.accessLog ? [createAccessLog(logger.child({ component: 'access' }), config.accessLogSample)] : [];
  return createProxyServer({
    store,
    logger: logger.child({ component: 'proxy' }),
    observer: combineObservers([metrics, ...accessLog]),
    trustedProxies: config.trustedProxies,
    connectTimeoutMs: config.connectTimeout,
    upstreamTimeoutMs: config.upstreamTimeout,
    allowEncoded: config.allowEncoded,
    keepUnderscoreHeaders: config.keepUnderscoreHeaders,
    headerTimeoutMs: config.headerTimeout,
    requestTimeoutMs: config.requestTimeout,
    websocketIdleMs: config.websocketIdleTimeout,
    idleTimeoutMs: config.idleTimeout,
    ...(tls && config.httpsPort !== null ? { https: { port: config.httpsPort, certificates: tls.certificates }, challenges: tls.challenges } : {}),
  });
}
