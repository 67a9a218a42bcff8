// The route sources berth is configured with and the store they fill.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/settings.js';
import type { DockerClient } from '../docker/client.js';
import { DockerProvider } from '../docker/provider.js';
import { RoutesFileProvider } from '../file/provider.js';
import { SwarmProvider } from '../swarm/provider.js';
import { HealthChecker } from '../health/checker.js';
import { RouteStore } from '../routes/store.js';
import { createEtcdSource } from '../stores/etcd/provider.js';
import { SOURCE_ORDER, type RouteSource } from './source.js';

export interface Sources {
  readonly store: RouteStore;
  /** In SOURCE_ORDER. */
  readonly list: readonly RouteSource[];
  /** Resolves once every source has synced once. */
  readonly synced: Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Routes named in one log line; beyond them only the count (ten thousand keys make a 200 KB line). */
const LOGGED_ROUTES = 20;

function logged(what: 'added' | 'removed' | 'changed', keys: readonly string[]): Record<string, unknown> {
  if (keys.length <= LOGGED_ROUTES) return { [what]: keys };
  return { [what]: keys.slice(0, LOGGED_ROUTES), [`${what}Count`]: keys.length };
}

export function createStore(logger: Logger): RouteStore {
  const store = new RouteStore(SOURCE_ORDER);
  store.onChange((change) => {
    logger.info({ version: change.version, ...logged('added', change.added), ...logged('removed', change.removed), ...logged('changed', change.changed) }, 'route table changed');
    for (const conflict of change.conflicts) logger.warn({ code: conflict.code }, conflict.message);
  });
  return store;
}

/** Packages a source needs (dockerode, the Redis client) load only when it is configured: start-up time. */
export async function createSources(config: Config, logger: Logger): Promise<Sources> {
  if (config.routesFile !== null && !existsSync(dirname(resolve(config.routesFile)))) {
    throw new Error(`the folder of --routes-file ${config.routesFile} does not exist`);
  }
  const store = createStore(logger);
  const configured: RouteSource[] = [];
  if (config.docker) {
    const { createDockerClient } = await import('../docker/client.js');
    const client = createDockerClient(config.dockerHost.address);
    const swarm = config.swarm !== 'off' ? swarmProvider(config, client, store, logger) : null;
    const docker = dockerProvider(config, client, store, logger, swarm);
    configured.push(docker);
    if (swarm) {
      configured.push(swarm);
      // Whichever source syncs first, task containers end up routed by the swarm source alone.
      let wasActive = false;
      swarm.onUpdate(() => {
        if (swarm.active === wasActive) return;
        wasActive = swarm.active;
        docker.swarmChanged();
      });
    }
  }
  if (config.redis !== null) {
    const { createRedisSource } = await import('../stores/redis/provider.js');
    configured.push(createRedisSource({ url: config.redis.url, shown: config.redis.shown, store, logger: logger.child({ component: 'redis' }) }));
  }
  if (config.etcd !== null) configured.push(createEtcdSource({ config, store, logger: logger.child({ component: 'etcd' }) }));
  if (config.routesFile !== null) configured.push(new RoutesFileProvider(config.routesFile, store, logger.child({ component: 'routes-file' }), { tlsDefault: config.tlsDefault }));
  const list = [...configured].sort((a, b) => SOURCE_ORDER.indexOf(a.name) - SOURCE_ORDER.indexOf(b.name));
  // Here, with the sources, so only the process that owns them checks: with --workers the primary,
  // whose failures reach the workers with the routes (cluster/messages.ts).
  const health = new HealthChecker({ store, logger: logger.child({ component: 'health' }) });
  return {
    store,
    list,
    synced: Promise.all(list.map((source) => source.whenSynced())).then(() => undefined),
    async start() {
      health.start();
      await Promise.all(list.map((source) => source.start()));
    },
    async stop() {
      health.stop();
      await Promise.all(list.map((source) => source.stop()));
    },
  };
}

function dockerProvider(config: Config, client: DockerClient, store: RouteStore, logger: Logger, swarm: SwarmProvider | null): DockerProvider {
  return new DockerProvider({
    swarmActive: () => swarm?.active === true,
    client,
    address: config.dockerHost.url,
    routing: { labelPrefix: config.labelPrefix, domain: config.domain, exposedByDefault: config.exposedByDefault, network: config.network, tlsDefault: config.tlsDefault, compat: config.compat },
    constraints: config.constraint,
    store,
    logger: logger.child({ component: 'docker' }),
    resyncIntervalMs: config.resyncInterval,
    // A short cap: reconnecting to a local daemon is cheap, and routes must catch up within a second.
    reconnect: { initialMs: 100, maxMs: 750 },
  });
}

function swarmProvider(config: Config, client: DockerClient, store: RouteStore, logger: Logger): SwarmProvider {
  return new SwarmProvider({
    client,
    address: config.dockerHost.url,
    mode: config.swarm === 'on' ? 'on' : 'auto',
    routing: { labelPrefix: config.labelPrefix, domain: config.domain, exposedByDefault: config.exposedByDefault, network: config.network, tlsDefault: config.tlsDefault, compat: config.compat },
    store,
    logger: logger.child({ component: 'swarm' }),
    pollMs: config.swarmPoll,
    roleCheckMs: config.resyncInterval,
    reconnect: { initialMs: 100, maxMs: 750 },
  });
}
