#!/usr/bin/env node
// Entry point: settings, logger, start (one process, or a cluster primary and its workers),
// and a graceful stop on SIGTERM / SIGINT.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { startBerth, type Berth } from './berth.js';
import { runWorker } from './cluster/worker.js';
import { startPrimary } from './cluster/primary.js';
import { helpText, parseConfig } from './config/parse.js';
import { BerthError, Codes, ExitCodes } from './errors.js';
import { createLogger } from './log.js';

// `berth check <compose.yml>`: a dry run of the labels, no engine, no listener.
if (process.argv[2] === 'check') {
  const { runCheck } = await import('./check/command.js');
  process.exit(runCheck(process.argv.slice(3)));
}

const parsed = parseConfig(process.argv.slice(2), process.env);
if (parsed.kind === 'version') {
  // dist/src/cli.js -> the package's own manifest, in a checkout, the npm package and the image alike.
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  process.stdout.write(`berth ${manifest.version}\n`);
  process.exit(0);
}
if (parsed.kind === 'help') {
  process.stdout.write(helpText());
  process.exit(0);
}
if (parsed.kind === 'invalid') {
  process.stderr.write(`berth: invalid settings (code ${Codes.configInvalid}):\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(ExitCodes.config);
}
const config = parsed.config;
const logger = cluster.isWorker ? createLogger(config.logLevel).child({ worker: cluster.worker?.id }) : createLogger(config.logLevel);

// A last resort: every promise has a handler, and one that slips through is a bug to report, not a reason to drop traffic.
process.on('unhandledRejection', (reason) => logger.error({ code: Codes.internal, err: reason }, 'a promise failed with no handler'));

if (cluster.isWorker) {
  runWorker(config, logger);
} else {
  let berth: Berth;
  try {
    berth = config.workers > 1 ? await startPrimary(config, logger) : await startBerth(config, logger);
  } catch (error) {
    // A failure that says what to do needs no stack: the code and the message are the whole story.
    if (error instanceof BerthError) logger.fatal({ code: error.code }, error.message);
    else logger.fatal({ err: error }, 'berth could not start');
    logger.flush();
    process.exit(error instanceof BerthError && error.code === Codes.listen ? ExitCodes.listen : ExitCodes.startFailed);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing in-flight requests');
    berth.stop().then(
      () => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ code: Codes.stop, err: error }, 'stopping failed; exiting anyway');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
