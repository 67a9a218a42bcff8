// A cluster worker: serves traffic with the table, certificates and challenge answers the primary
// sends; talks to nothing else.
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { createWorkerMetrics } from '../admin/metrics.js';
import { createProxy, httpsTarget, proxyTarget } from '../berth.js';
import type { Config } from '../config/settings.js';
import { BerthError, Codes, ExitCodes } from '../errors.js';
import { listen } from '../listen.js';
import { RouteStore } from '../routes/store.js';
import { SOURCE_ORDER } from '../sources/source.js';
import { ChallengeCopy, WorkerCertificates } from './certificates.js';
import { isMessage, type ToPrimary, type ToWorker } from './messages.js';
import { applySpecsChanges } from './routes-feed.js';

export function runWorker(config: Config, logger: Logger): void {
  const store = new RouteStore(SOURCE_ORDER);
  const challenges = new ChallengeCopy();
  const certificates = config.httpsPort === null ? null : new WorkerCertificates(challenges, logger.child({ component: 'certificates' }));
  const proxy = createProxy(config, store, logger, createWorkerMetrics(), certificates ? { certificates, challenges } : null);
  let routed = false;
  let listening = false;
  let stopping = false;

  // With a callback, a channel that breaks reports to it instead of an 'error' nobody listens to.
  const tell = (message: ToPrimary, then: () => void = () => {}) => {
    if (process.connected && process.send) process.send(message, undefined, {}, () => then());
    else then();
  };
  const stop = () => {
    if (stopping) return;
    stopping = true;
    proxy.shutdown(config.shutdownTimeout).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ code: Codes.stop, err: error }, 'stopping failed');
        process.exit(1);
      },
    );
  };

  // Listen only with a table (and, with HTTPS, certificates) in hand: no request meets an empty one.
  const listenWhenReady = () => {
    if (listening || stopping || !routed || (certificates && !certificates.held)) return;
    listening = true;
    const https = proxy.httpsServer;
    Promise.all([listen(proxy.server, proxyTarget(config), logger), https ? listen(https, httpsTarget(config), logger) : null]).then(
      ([port, httpsPort]) => tell({ type: 'berth:listening', port, httpsPort }),
      (error: unknown) => {
        const failure = error instanceof BerthError ? error : new BerthError(Codes.listen, String(error));
        tell({ type: 'berth:listen-failed', code: failure.code, message: failure.message }, () => process.exit(ExitCodes.listen));
      },
    );
  };

  const receive = (message: unknown) => {
    if (isMessage<Extract<ToWorker, { type: 'berth:routes' }>>(message, 'berth:routes')) {
      // The failures first: routes new to this worker then join with what the primary found of them.
      store.setHealth(message.health ?? {});
      for (const [source, specs] of Object.entries(message.sources)) store.update(source, specs);
      routed = true;
      listenWhenReady();
    } else if (isMessage<Extract<ToWorker, { type: 'berth:routes-changed' }>>(message, 'berth:routes-changed')) {
      store.setHealth(message.health);
      applySpecsChanges(store, message.changes);
    } else if (isMessage<Extract<ToWorker, { type: 'berth:certificates' }>>(message, 'berth:certificates')) {
      certificates?.replace(message);
      listenWhenReady();
    } else if (isMessage<Extract<ToWorker, { type: 'berth:challenges' }>>(message, 'berth:challenges')) {
      challenges.replace(message);
      tell({ type: 'berth:challenges-held', version: message.version });
    } else if (isMessage(message, 'berth:shutdown')) {
      stop();
    }
  };
  process.on('message', (message: unknown) => {
    // A message that cannot be used is logged: the worker keeps what it had and keeps serving.
    try {
      receive(message);
    } catch (error) {
      logger.error({ code: Codes.internal, err: error, type: (message as { type?: unknown } | null)?.type }, 'a message from the primary could not be used');
    }
  });
  tell({ type: 'berth:hello' });
  // The primary decides when to stop; a worker that loses it stops on its own.
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});
  cluster.worker?.on('disconnect', stop);
  // Node's own cluster messages (a listen asks the primary for its handle) report a channel that
  // broke as an 'error' on the process; unheard, it would end this worker with a stack trace.
  process.on('error', (error) => logger.debug({ err: error }, 'the channel to the primary broke'));
}
