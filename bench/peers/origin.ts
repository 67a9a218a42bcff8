// The origin every peer forwards to, also measured directly ("direct"): the ceiling for all.
import { freePort } from '../ports.js';
import { spawnChild } from '../processes.js';
import { renderConfig } from './config.js';
import { servingPeer, type Peer } from './peer.js';

export async function startOrigin(dir: string): Promise<Peer> {
  const port = await freePort();
  const config = await renderConfig('origin-nginx.conf', dir, { DIR: dir, PORT: port });
  return servingPeer('direct (origin)', port, spawnChild('nginx', ['-e', '/dev/null', '-c', config]));
}
