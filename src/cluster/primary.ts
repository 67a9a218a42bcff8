// The primary of --workers N: the only process that talks to Docker and reads the routes file.
// It sends every new table to the workers, serves the admin API, and replaces a worker that dies.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { createClusterMetrics } from '../admin/metrics.js';
import { createAdminServer } from '../admin/server.js';
import type { Config } from '../config/settings.js';
import { adminTarget, type Berth } from '../berth.js';
import { BerthError, type Code } from '../errors.js';
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
  // With a callback, a channel that breaks reports to it instead of throwing from an 'error' event.
  const send = (worker: Worker, message: ToWorker) => {
    if (worker.isConnected()) worker.send(message, undefined, (error) => error && logger.debug({ worker: worker.id, err: error }, 'a message to a worker was lost'));
  };
  store.onChange(() => {
    const message = routes();
    for (const worker of Object.values(cluster.workers ?? {})) if (worker) send(worker, message);
  });

  let allListening!: () => void;
  let cannotListen!: (error: BerthError) => void;
  const workersUp = new Promise<void>((resolve, reject) => ((allListening = resolve), (cannotListen = reject)));
  // Awaited only after the sources start: without this, an early refusal would count as unhandled.
  workersUp.catch(() => {});
  const fork = () => {
    const worker = cluster.fork();
    // A worker that cannot be spawned or signalled reports here; unheard, it would end the primary.
    worker.on('error', (error) => logger.error({ worker: worker.id, err: error }, 'a worker process failed'));
    worker.on('message', (message: unknown) => {
      // The first table goes out once the sources have synced; later ones on every change.
      if (isMessage<ToPrimary>(message, 'berth:hello')) void sources.synced.then(() => send(worker, routes()));
      if (isMessage<Extract<ToPrimary, { type: 'berth:listen-failed' }>>(message, 'berth:listen-failed')) {
        if (ready) return logger.error({ code: message.code, worker: worker.id }, message.message);
        // Every worker would meet the same refusal: stop, rather than replace them for ever.
        stopping = true;
        return cannotListen(new BerthError(message.code as Code, message.message));
      }
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
    setTimeout(() => {
      try {
        fork();
      } catch (error) {
        logger.error({ err: error }, 'starting a worker failed');
      }
    }, delay);
  });

  const metrics = createClusterMetrics(store, docker);
  const workers = (): WorkersStatus => ({ wanted: config.workers, listening: listening.size, restarts });
  const admin = createAdminServer({ store, docker, file, metrics, isReady: () => ready, token: config.adminToken, workers, logger: logger.child({ component: 'admin' }) });
  const adminPort = await listen(admin.server, adminTarget(config), logger);
  logger.info({ listener: 'admin', address: config.adminAddr.host, port: adminPort }, 'listening');

  for (let i = 0; i < config.workers; i++) fork();
  await sources.start();
  await workersUp.catch(async (error: unknown) => {
    await sources.stop();
    admin.close();
    throw error;
  });
  restartDelay.reset();
  ready = true;
  logger.info({ workers: config.workers }, 'first sync done and every worker listening; ready');

  return {
    proxyPort,
    httpsPort: null,
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
