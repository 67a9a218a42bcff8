// The bare http-proxy-3 loop (bare-loop-server.ts) in one process or in cluster workers.
import { fileURLToPath } from 'node:url';
import { freePort } from '../ports.js';
import { spawnChild } from '../processes.js';
import { servingPeer, type Peer, type PeerSetup } from './peer.js';

const PROGRAM = fileURLToPath(new URL('./bare-loop-server.js', import.meta.url));

export function bareLoopName(workers: number): string {
  return workers > 1 ? `http-proxy-3 loop, ${workers} workers` : 'http-proxy-3 loop';
}

export async function startBareLoop(setup: PeerSetup, workers: number, nodeOptions: readonly string[] = []): Promise<Peer> {
  const port = await freePort();
  const child = spawnChild(process.execPath, [...nodeOptions, PROGRAM], { env: { PORT: String(port), ORIGIN_PORT: String(setup.originPort), WORKERS: String(workers) } });
  return servingPeer(bareLoopName(workers), port, child);
}
