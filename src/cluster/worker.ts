// A cluster worker: serves traffic with the table the primary sends; talks to nothing else.
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { createWorkerMetrics } from '../admin/metrics.js';
import { createProxy } from '../berth.js';
import type { Config } from '../config/settings.js';
import { listen } from '../listen.js';
import { RouteStore } from '../routes/store.js';
import { SOURCE_ORDER } from '../sources.js';
import { isMessage, type ToPrimary, type ToWorker } from './messages.js';

export function runWorker(config: Config, logger: Logger): void {
  const store = new RouteStore(SOURCE_ORDER);
  const proxy = createProxy(config, store, logger, createWorkerMetrics());
  let listening = false;
  let stopping = false;

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await proxy.shutdown(config.shutdownTimeout);
    process.exit(0);
  };

  process.on('message', (message: unknown) => {
    if (isMessage<Extract<ToWorker, { type: 'berth:routes' }>>(message, 'berth:routes')) {
      for (const [source, specs] of Object.entries(message.sources)) store.update(source, specs);
      // Listen only with a table in hand: no request meets an empty one.
      if (!listening) {
        listening = true;
        void listen(proxy.server, config.httpPort, undefined).then((port) => process.send?.({ type: 'berth:listening', port } satisfies ToPrimary));
      }
    } else if (isMessage(message, 'berth:shutdown')) {
      void stop();
    }
  });
  process.send?.({ type: 'berth:hello' } satisfies ToPrimary);
  // The primary decides when to stop; a worker that loses it stops on its own.
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});
  cluster.worker?.on('disconnect', () => void stop());
}
