// A server under test: something listening on loopback that answers Host: app.test with the
// origin's 200.
import { setTimeout as sleep } from 'node:timers/promises';
import { statusOf } from '../http.js';

export const APP_HOST = 'app.test';

export interface Peer {
  readonly name: string;
  readonly port: number;
  /** The process that serves (the primary, for cluster peers), when the bench started one. */
  readonly pid?: number;
  stop(): Promise<void>;
}

/** What every peer needs to know: where the origin is and a folder for its files. */
export interface PeerSetup {
  readonly originPort: number;
  readonly dir: string;
}

/** A started process: a child, or berth behind its launcher. */
interface Started {
  readonly pid?: number;
  stop(): Promise<void>;
  readonly exited?: Promise<unknown>;
  output?(): string;
}

/**
 * Resolves once the process answers 200 on `port` (for app.test over plain HTTP, unless `status`
 * asks otherwise); stops it and throws if it never does.
 */
export async function servingPeer(name: string, port: number, child: Started, status: (port: number) => Promise<number> = (p) => statusOf(p, APP_HOST), timeoutMs = 15_000): Promise<Peer> {
  let exited = false;
  void child.exited?.then(() => (exited = true));
  const deadline = performance.now() + timeoutMs;
  while (!exited && performance.now() < deadline) {
    if ((await status(port)) === 200) return { name, port, ...(child.pid === undefined ? {} : { pid: child.pid }), stop: () => child.stop() };
    await sleep(50);
  }
  await child.stop();
  throw new Error(`${name} did not answer 200 on :${port} (exited: ${exited}):\n${child.output?.() ?? ''}`);
}
