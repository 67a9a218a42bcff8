// The bare loop (bare-loop-server.ts) on http-proxy 1.18 or http-proxy-3, in one process or in cluster workers.
import { fileURLToPath } from 'node:url';
import { freePort } from '../ports.js';
import { spawnChild } from '../processes.js';
import { servingPeer, type Peer, type PeerSetup } from './peer.js';

const PROGRAM = fileURLToPath(new URL('./bare-loop-server.js', import.meta.url));

/** `http-proxy` is the 1.18 library; `http-proxy-3` its maintained fork. */
export type BareLoopLibrary = 'http-proxy' | 'http-proxy-3';

export function bareLoopName(workers: number, library: BareLoopLibrary = 'http-proxy-3'): string {
  const base = library === 'http-proxy' ? 'http-proxy 1.18 loop' : 'http-proxy-3 loop';
  return workers > 1 ? `${base}, ${workers} workers` : base;
}

export async function startBareLoop(setup: PeerSetup, workers: number, nodeOptions: readonly string[] = [], library: BareLoopLibrary = 'http-proxy-3'): Promise<Peer> {
  const port = await freePort();
  const child = spawnChild(process.execPath, [...nodeOptions, PROGRAM], { env: { PORT: String(port), ORIGIN_PORT: String(setup.originPort), WORKERS: String(workers), LIBRARY: library } });
  return servingPeer(bareLoopName(workers, library), port, child);
}
