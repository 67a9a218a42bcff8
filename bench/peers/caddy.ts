import { freePort } from '../ports.js';
import { spawnChild } from '../processes.js';
import { renderConfig } from './config.js';
import { servingPeer, type Peer, type PeerSetup } from './peer.js';

export async function startCaddy(setup: PeerSetup): Promise<Peer> {
  const port = await freePort();
  const config = await renderConfig('Caddyfile', setup.dir, { PORT: port, ORIGIN_PORT: setup.originPort });
  // Caddy keeps its state under $HOME: the run's folder, not the user's.
  const child = spawnChild('caddy', ['run', '--config', config, '--adapter', 'caddyfile'], { env: { HOME: setup.dir, XDG_DATA_HOME: setup.dir, XDG_CONFIG_HOME: setup.dir } });
  return servingPeer('Caddy', port, child);
}
