#!/usr/bin/env node
// Entry point: settings, logger, start (one process, or a cluster primary and its workers),
// and a graceful stop on SIGTERM / SIGINT.
import cluster from 'node:cluster';
import { startBerth, type Berth } from './berth.js';
import { runWorker } from './cluster/worker.js';
import { startPrimary } from './cluster/primary.js';
import { helpText, parseConfig } from './config/parse.js';
import { createLogger } from './log.js';

const parsed = parseConfig(process.argv.slice(2), process.env);
if (parsed.kind === 'help') {
  process.stdout.write(helpText());
  process.exit(0);
}
if (parsed.kind === 'invalid') {
  process.stderr.write(`berth: invalid settings (code BERTH_E_CONFIG):\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(2);
}
const config = parsed.config;

if (cluster.isWorker) {
  runWorker(config, createLogger(config.logLevel).child({ worker: cluster.worker?.id }));
} else {
  const logger = createLogger(config.logLevel);
  let berth: Berth;
  try {
    berth = config.workers > 1 ? await startPrimary(config, logger) : await startBerth(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'berth could not start');
    logger.flush();
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing in-flight requests');
    void berth.stop().then(() => {
      logger.info('stopped');
      logger.flush();
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
