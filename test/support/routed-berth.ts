// A berth that serves a routes file written for one suite, without Docker.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSyncedBerth, type RunningBerth } from './berth.js';

export interface RoutedBerth {
  readonly berth: RunningBerth;
  /** Stops berth and removes the routes file's folder. */
  stop(): Promise<void>;
}

/** @param routes the routes file's text; `args` are added to `--no-docker --routes-file <file>` */
export async function berthWithRoutes(routes: string, args: readonly string[] = []): Promise<RoutedBerth> {
  const folder = await mkdtemp(join(tmpdir(), 'berth-routes-'));
  await writeFile(join(folder, 'routes.yml'), routes.endsWith('\n') ? routes : routes + '\n');
  const berth = await startSyncedBerth(['--no-docker', '--routes-file', join(folder, 'routes.yml'), ...args]);
  return {
    berth,
    async stop() {
      await berth.stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}
