// The primary of --workers N: the only process that talks to Docker and reads the routes file.
// It sends every new table to the workers, serves the admin API, and replaces a worker that dies.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { createClusterMetrics } from '../admin/metrics.js';
import { createAdminServer } from '../admin/server.js';
import type { Berth } from '../berth.js';
import type { Config } from '../config/settings.js';
import { listen } from '../listen.js';
import { createSources } from '../sources.js';
import { createBackoff } from '../util/backoff.js';
import { isMessage, type ToPrimary, type ToWorker } from './messages.js';

export interface WorkersStatus {
  readonly wanted: number;
  readonly listening: number;
  readonly restarts: number;
}

export async function startPrimary(config: Config, logger: Logger): Promise<Berth> {
  const sources = createSources(config, logger);
  const { store, docker, file } = sources;
  const listening = new Set<Worker>();
  const restartDelay = createBackoff(100, 5_000);
  let restarts = 0;
  let stopping = false;
  let proxyPort = 0;
  let ready = false;

  const routes = (): ToWorker => ({ type: 'berth:routes', sources: store.specsBySource() });
  const send = (worker: Worker, message: ToWorker) => {
    if (worker.isConnected()) worker.send(message);
  };
  store.onChange(() => {
    const message = routes();
    for (const worker of Object.values(cluster.workers ?? {})) if (worker) send(worker, message);
  });

  let allListening!: () => void;
  const workersUp = new Promise<void>((resolve) => (allListening = resolve));
  const fork = () => {
    const worker = cluster.fork();
    worker.on('message', (message: unknown) => {
      // The first table goes out once the sources have synced; later ones on every change.
      if (isMessage<ToPrimary>(message, 'berth:hello')) void sources.synced.then(() => send(worker, routes()));
      if (!isMessage<Extract<ToPrimary, { type: 'berth:listening' }>>(message, 'berth:listening')) return;
      listening.add(worker);
      if (proxyPort === 0) {
        proxyPort = message.port;
        logger.info({ listener: 'proxy', port: proxyPort, workers: config.workers }, 'listening');
      }
      if (listening.size === config.workers) allListening();
    });
  };
  cluster.on('exit', (worker, code, signal) => {
    listening.delete(worker);
    if (stopping) return;
    restarts++;
    const delay = restartDelay.next();
    logger.error({ worker: worker.id, code, signal, restartInMs: delay }, 'a worker died; starting another');
    setTimeout(fork, delay);
  });

  const metrics = createClusterMetrics(store, docker);
  const workers = (): WorkersStatus => ({ wanted: config.workers, listening: listening.size, restarts });
  const admin = createAdminServer({ store, docker, file, metrics, isReady: () => ready, token: config.adminToken, workers, logger: logger.child({ component: 'admin' }) });
  const adminPort = await listen(admin.server, config.adminAddr.port, config.adminAddr.host);
  logger.info({ listener: 'admin', address: config.adminAddr.host, port: adminPort }, 'listening');

  for (let i = 0; i < config.workers; i++) fork();
  await sources.start();
  await workersUp;
  restartDelay.reset();
  ready = true;
  logger.info({ workers: config.workers }, 'first sync done and every worker listening; ready');

  return {
    proxyPort,
    adminPort,
    async stop() {
      stopping = true;
      await sources.stop();
      const exited = Object.values(cluster.workers ?? {}).map((worker) => new Promise((resolve) => worker!.once('exit', resolve)));
      for (const worker of Object.values(cluster.workers ?? {})) if (worker) send(worker, { type: 'berth:shutdown' });
      // A worker that outlives its grace (plus a margin) is ended.
      const kill = setTimeout(() => Object.values(cluster.workers ?? {}).forEach((worker) => worker?.process.kill('SIGKILL')), config.shutdownTimeout + 2_000);
      await Promise.all(exited);
      clearTimeout(kill);
      admin.close();
    },
  };
}
