// What the store tests ask of a running berth: each source's status, and a route served or gone.
import type { RunningBerth } from './berth.js';
import { waitFor } from './wait.js';

export interface StoreStatus {
  state: string;
  routes: number;
  /** Redis: how changes are followed. */
  follows?: string;
  /** etcd: the revision watched. */
  revision?: number;
  problems: Array<{ code: string; item?: string }>;
}

export const statusOf = async (berth: RunningBerth) => (await berth.admin<{ sources: Record<string, StoreStatus> }>('/api/status')).sources;

/** The body once berth answers 200 for the host and path, polled every 10 ms for `withinMs`. */
export async function served(berth: RunningBerth, host: string, path = '/', withinMs = 1000): Promise<string> {
  return waitFor(async () => {
    const response = await berth.request(host, path);
    return response.status === 200 && response.body;
  }, { what: `${host}${path} served`, timeoutMs: withinMs, intervalMs: 10 });
}

export async function gone(berth: RunningBerth, host: string, withinMs = 1000): Promise<void> {
  await waitFor(async () => (await berth.request(host)).status === 404, { what: `${host} gone`, timeoutMs: withinMs, intervalMs: 10 });
}
