import { freePort } from '../ports.js';
import { spawnChild } from '../processes.js';
import { renderConfig } from './config.js';
import { servingPeer, type Peer, type PeerSetup } from './peer.js';

export async function startHaproxy(setup: PeerSetup): Promise<Peer> {
  const port = await freePort();
  const config = await renderConfig('haproxy.cfg', setup.dir, { PORT: port, ORIGIN_PORT: setup.originPort });
  return servingPeer('HAProxy', port, spawnChild('haproxy', ['-q', '-f', config]));
}
