import { freePort } from '../ports.js';
import { spawnChild } from '../processes.js';
import { renderConfig } from './config.js';
import { servingPeer, type Peer, type PeerSetup } from './peer.js';

export async function startNginx(setup: PeerSetup): Promise<Peer> {
  const port = await freePort();
  const config = await renderConfig('nginx-proxy.conf', setup.dir, { DIR: setup.dir, PORT: port, ORIGIN_PORT: setup.originPort });
  return servingPeer('nginx', port, spawnChild('nginx', ['-e', '/dev/null', '-c', config]));
}
