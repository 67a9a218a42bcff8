import { fileURLToPath } from 'node:url';
import { freePort } from '../ports.js';
import { spawnChild } from '../processes.js';
import { servingPeer, type Peer, type PeerSetup } from './peer.js';

const PROGRAM = fileURLToPath(new URL('./redbird-server.js', import.meta.url));

export async function startRedbird(setup: PeerSetup): Promise<Peer> {
  const port = await freePort();
  const child = spawnChild(process.execPath, [PROGRAM], { env: { PORT: String(port), ORIGIN_PORT: String(setup.originPort) } });
  return servingPeer('redbird', port, child);
}
