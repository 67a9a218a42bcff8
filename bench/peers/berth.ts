// berth with no Docker: a routes file sends app.test to the origin.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launchBerth } from '../berth.js';
import { APP_HOST, servingPeer, type Peer, type PeerSetup } from './peer.js';

export interface BerthVariant {
  readonly workers: number;
  readonly accessLog: boolean;
  /** Flags for node, such as --cpu-prof. */
  readonly nodeOptions?: readonly string[];
}

export function berthName(variant: BerthVariant): string {
  return `berth${variant.workers > 1 ? ` --workers ${variant.workers}` : ''}${variant.accessLog ? ', access log on' : ''}`;
}

export async function startBerthPeer(setup: PeerSetup, variant: BerthVariant): Promise<Peer> {
  // A folder of its own: berth watches the routes file's folder, and the access log is busy.
  const routes = join(await mkdtemp(join(setup.dir, 'routes-')), 'routes.yml');
  await writeFile(routes, `routes:\n  - host: ${APP_HOST}\n    to: http://127.0.0.1:${setup.originPort}\n`);
  const name = berthName(variant);
  const berth = await launchBerth({
    args: ['--no-docker', '--routes-file', routes, '--workers', String(variant.workers), `--access-log=${variant.accessLog}`],
    // The access log goes to a file, as it would in production; nothing parses it meanwhile.
    logFile: join(setup.dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.log`),
    ...(variant.nodeOptions ? { nodeOptions: variant.nodeOptions } : {}),
  });
  return servingPeer(name, berth.proxyPort, { pid: berth.pid, stop: () => berth.stop() });
}
