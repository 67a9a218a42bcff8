#!/usr/bin/env node
// Entry point: settings, logger, start, and a graceful stop on SIGTERM / SIGINT.
import { startBerth } from './berth.js';
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

const logger = createLogger(parsed.config.logLevel);
try {
  const berth = await startBerth(parsed.config, logger);
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
} catch (error) {
  logger.fatal({ err: error }, 'berth could not start');
  logger.flush();
  process.exit(1);
}
