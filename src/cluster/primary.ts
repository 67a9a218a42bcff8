// The primary of --workers N: the only process that talks to Docker, reads the routes file and
// holds certificates (folder, ACME, the default one) and challenge answers. It sends every new table,
// certificate set and challenge set to the workers, serves the admin API, and replaces a worker that dies.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { createClusterMetrics } from '../admin/metrics.js';
import { createAdminServer } from '../admin/server.js';
import type { Config } from '../config/settings.js';
import { adminTarget, type Berth } from '../berth.js';
import { BerthError, Codes, type Code } from '../errors.js';
import { listen } from '../listen.js';
import { createSources } from '../sources/create.js';
import { createBackoff } from '../util/backoff.js';
import { toWire } from './certificates.js';
import { RoutesFeed } from './routes-feed.js';
import { isMessage, type ToPrimary, type ToWorker } from './messages.js';

export interface WorkersStatus {
  readonly wanted: number;
  readonly listening: number;
  readonly restarts: number;
}

export async function startPrimary(config: Config, logger: Logger): Promise<Berth> {
  const sources = await createSources(config, logger);
  const { store } = sources;
  const listening = new Set<Worker>();
  const restartDelay = createBackoff(100, 5_000);
  let restarts = 0;
  let stopping = false;
  let proxyPort = 0;
  let httpsPort: number | null = null;
  let ready = false;

  const feed = new RoutesFeed<Worker>(store);
  // With a callback, a channel that breaks reports to it instead of throwing from an 'error' event.
  const send = (worker: Worker, message: ToWorker) => {
    if (worker.isConnected()) worker.send(message, undefined, (error) => error && logger.debug({ worker: worker.id, err: error }, 'a message to a worker was lost'));
  };
  // Route messages are changes to what the worker holds: after a lost one only a full set is right.
  const sendRoutes = (worker: Worker, message: ToWorker) => {
    if (!worker.isConnected()) return feed.lost(worker);
    worker.send(message, undefined, (error) => {
      if (!error) return;
      feed.lost(worker);
      logger.debug({ worker: worker.id, err: error }, 'a routes message to a worker was lost; the next one is a full set');
    });
  };
  const everyWorker = () => Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
  // A listener that throws would stop the store (or the certificates) telling the others.
  const toAll = (what: string, message: () => ToWorker) => () => {
    try {
      const built = message();
      for (const worker of everyWorker()) send(worker, built);
    } catch (error) {
      logger.error({ code: Codes.internal, err: error }, `the ${what} could not be sent to the workers`);
    }
  };
  // Each worker gets what changed since its last message: one changed route of 10,000 is one spec sent.
  store.onChange(() => {
    try {
      for (const [worker, message] of feed.changed()) sendRoutes(worker, message);
    } catch (error) {
      logger.error({ code: Codes.internal, err: error }, 'the routes could not be sent to the workers');
    }
  });

  // Certificates and challenges live here; the workers get copies.
  // Loaded only with HTTPS on: acme-client and the X.509 library cost start-up time.
  const tls = config.httpsPort === null ? null : await (await import('../certs/start.js')).startCertificates(config, store, logger);
  const certificates = (): ToWorker | null => {
    if (!tls) return null;
    const { defaultEntry, entries } = tls.certificates.inForce;
    return { type: 'berth:certificates', defaultEntry: toWire(defaultEntry), entries: entries.map(toWire) };
  };
  /** Which version of the challenges each worker that said hello holds (0: none yet). */
  const heldVersion = new Map<Worker, number>();
  const heldWaiters = new Set<() => void>();
  let challengeVersion = 0;
  const challenges = (): ToWorker | null => (tls ? { type: 'berth:challenges', version: challengeVersion, ...tls.challenges.snapshot() } : null);
  const checkHeld = () => {
    for (const waiter of heldWaiters) waiter();
  };
  if (tls) {
    tls.certificates.onChange(toAll('certificates', () => certificates()!));
    tls.challenges.onChange(() => {
      challengeVersion++;
      toAll('challenge answers', () => challenges()!)();
    });
    // The CA is told to validate only once a worker listens and every worker that may take its request
    // holds the answer (orders start with the first sync, which can beat the workers' start); a worker
    // that does not acknowledge within the limit (stalled, dying) is not waited for longer.
    tls.challenges.heldBy(
      () =>
        new Promise<void>((resolve) => {
          const wanted = challengeVersion;
          const done = () => {
            if (listening.size === 0 && !stopping) return;
            if ([...heldVersion.entries()].some(([worker, version]) => version < wanted && worker.isConnected())) return;
            finish();
          };
          const timer = setTimeout(() => {
            logger.warn({ version: wanted }, 'not every worker holds the challenge answers after 10 s; asking the CA to validate anyway');
            finish();
          }, 10_000);
          const finish = () => {
            clearTimeout(timer);
            heldWaiters.delete(done);
            resolve();
          };
          heldWaiters.add(done);
          done();
        }),
    );
  }

  let allListening!: () => void;
  let cannotListen!: (error: BerthError) => void;
  const workersUp = new Promise<void>((resolve, reject) => ((allListening = resolve), (cannotListen = reject)));
  // Awaited only after the sources start: without this, an early refusal would count as unhandled.
  workersUp.catch(() => {});
  schedulePerKernel();
  const fork = () => {
    const worker = cluster.fork();
    // A worker that cannot be spawned or signalled reports here; unheard, it would end the primary.
    worker.on('error', (error) => logger.error({ worker: worker.id, err: error }, 'a worker process failed'));
    worker.on('message', (message: unknown) => {
      try {
        receive(worker, message);
      } catch (error) {
        logger.error({ code: Codes.internal, worker: worker.id, err: error }, 'a message from a worker could not be used');
      }
    });
  };
  const receive = (worker: Worker, message: unknown) => {
    if (isMessage<ToPrimary>(message, 'berth:hello')) {
      // Certificates and challenges at once, so the worker holds them before its first table; that
      // table goes out once the sources have synced, later ones on every change.
      const withCertificates = certificates();
      const withChallenges = challenges();
      if (withCertificates) send(worker, withCertificates);
      if (withChallenges) {
        heldVersion.set(worker, 0);
        send(worker, withChallenges);
      }
      feed.follow(worker);
      return void sources.synced.then(() => sendRoutes(worker, feed.full(worker)));
    }
    if (isMessage<Extract<ToPrimary, { type: 'berth:challenges-held' }>>(message, 'berth:challenges-held')) {
      if (heldVersion.has(worker)) heldVersion.set(worker, Math.max(heldVersion.get(worker)!, message.version));
      return checkHeld();
    }
    if (isMessage<Extract<ToPrimary, { type: 'berth:listen-failed' }>>(message, 'berth:listen-failed')) {
      if (ready) return logger.error({ code: message.code, worker: worker.id }, message.message);
      // Every worker would meet the same refusal: stop, rather than replace them for ever.
      stopping = true;
      return cannotListen(new BerthError(message.code as Code, message.message));
    }
    if (!isMessage<Extract<ToPrimary, { type: 'berth:listening' }>>(message, 'berth:listening')) return;
    listening.add(worker);
    checkHeld();
    if (proxyPort === 0) {
      proxyPort = message.port;
      httpsPort = message.httpsPort;
      logger.info({ listener: 'proxy', port: proxyPort, workers: config.workers }, 'listening');
      if (httpsPort !== null) logger.info({ listener: 'https', port: httpsPort, workers: config.workers }, 'listening');
    }
    if (listening.size === config.workers) allListening();
  };
  cluster.on('exit', (worker, code, signal) => {
    listening.delete(worker);
    heldVersion.delete(worker);
    feed.forget(worker);
    checkHeld();
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

  const statuses = tls ? () => tls.certificates.statuses(store) : null;
  const metrics = createClusterMetrics(store, sources.list, statuses);
  const workers = (): WorkersStatus => ({ wanted: config.workers, listening: listening.size, restarts });
  const admin = createAdminServer({ store, sources: sources.list, metrics, certificates: statuses, isReady: () => ready, token: config.adminToken, workers, logger: logger.child({ component: 'admin' }) });
  const adminPort = await listen(admin.server, adminTarget(config), logger);
  logger.info({ listener: 'admin', address: config.adminAddr.host, port: adminPort }, 'listening');

  for (let i = 0; i < config.workers; i++) fork();
  await sources.start();
  await workersUp.catch(async (error: unknown) => {
    await sources.stop();
    admin.close();
    await tls?.stop();
    throw error;
  });
  restartDelay.reset();
  ready = true;
  logger.info({ workers: config.workers }, 'first sync done and every worker listening; ready');

  return {
    proxyPort,
    httpsPort,
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
      await tls?.stop();
    },
  };
}

/**
 * Workers accept connections themselves from the shared socket (SCHED_NONE), unless
 * NODE_CLUSTER_SCHED_POLICY says otherwise. Node's round-robin default has the primary accept
 * every connection and pass it to a worker over IPC: measured here with a new connection per
 * request, the primary then spent about a sixth of a core on it, while Linux left the two workers'
 * CPU time within 10% of each other without it.
 */
function schedulePerKernel(): void {
  if (process.env['NODE_CLUSTER_SCHED_POLICY'] === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
}
