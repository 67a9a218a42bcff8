// A cluster worker: serves traffic with the table the primary sends; talks to nothing else.
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { createWorkerMetrics } from '../admin/metrics.js';
import { createProxy, proxyTarget } from '../berth.js';
import type { Config } from '../config/settings.js';
import { Codes, ExitCodes, type BerthError } from '../errors.js';
import { listen } from '../listen.js';
import { RouteStore } from '../routes/store.js';
import { SOURCE_ORDER } from '../sources.js';
import { isMessage, type ToPrimary, type ToWorker } from './messages.js';

export function runWorker(config: Config, logger: Logger): void {
  const store = new RouteStore(SOURCE_ORDER);
  const proxy = createProxy(config, store, logger, createWorkerMetrics());
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

  process.on('message', (message: unknown) => {
    if (isMessage<Extract<ToWorker, { type: 'berth:routes' }>>(message, 'berth:routes')) {
      for (const [source, specs] of Object.entries(message.sources)) store.update(source, specs);
      // Listen only with a table in hand: no request meets an empty one.
      if (!listening) {
        listening = true;
        listen(proxy.server, proxyTarget(config), logger).then(
          (port) => tell({ type: 'berth:listening', port }),
          (error: BerthError) => {
            tell({ type: 'berth:listen-failed', code: error.code, message: error.message }, () => process.exit(ExitCodes.listen));
          },
        );
      }
    } else if (isMessage(message, 'berth:shutdown')) {
      stop();
    }
  });
  tell({ type: 'berth:hello' });
  // The primary decides when to stop; a worker that loses it stops on its own.
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});
  cluster.worker?.on('disconnect', stop);
}
