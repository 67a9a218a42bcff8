// The admin listener: health, readiness and what berth decided, as JSON. Separate from the proxy,
// so no route can ever reach it.
import http from 'node:http';
import type { DockerProvider } from '../docker/provider.js';
import type { RoutesFileProvider } from '../file/provider.js';
import type { RouteStore } from '../routes/store.js';
import { routesView } from './views.js';

export interface AdminOptions {
  readonly store: RouteStore;
  /** Null when berth runs without Docker. */
  readonly docker: DockerProvider | null;
  /** Null without --routes-file. */
  readonly file: RoutesFileProvider | null;
  /** Whether the first sync of every source is done. */
  readonly isReady: () => boolean;
}

export function createAdminServer(options: AdminOptions): http.Server {
  const { store, docker, file } = options;
  const handlers: Record<string, () => { status: number; body: unknown }> = {
    '/healthz': () => ({ status: 200, body: { status: 'ok' } }),
    '/readyz': () => (options.isReady() ? { status: 200, body: { status: 'ready' } } : { status: 503, body: { status: 'starting' } }),
    '/api/routes': () => ({ status: 200, body: routesView(store.current, store.conflicts) }),
    '/api/containers': () => ({ status: 200, body: { containers: docker?.containers ?? [] } }),
    '/api/status': () => ({ status: 200, body: { ready: options.isReady(), tableVersion: store.current.version, docker: docker?.status ?? null, routesFile: file?.status ?? null } }),
  };

  return http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const handler = handlers[path];
    const { status, body } =
      req.method !== 'GET' && req.method !== 'HEAD'
        ? { status: 405, body: { error: 'only GET' } }
        : handler
          ? handler()
          : { status: 404, body: { error: `no such endpoint: ${path}`, endpoints: Object.keys(handlers) } };
    const json = JSON.stringify(body, null, 2) + '\n';
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : json);
  });
}
