// The admin listener: health, readiness, what berth decided and why, metrics and a live dashboard.
// Separate from the proxy, so no route can ever reach it.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { Logger } from 'pino';
import type { CertificateStatus } from '../certs/types.js';
import { Codes } from '../errors.js';
import type { RouteStore } from '../routes/store.js';
import type { RouteSource } from '../sources/source.js';
import { bearerMatches } from './auth.js';
import { recordChanges } from './changes.js';
import type { Metrics } from './metrics.js';
import { createSnapshotStream } from './stream.js';
import { routesView } from './views.js';

export interface AdminOptions {
  readonly store: RouteStore;
  /** Every configured source, strongest first. */
  readonly sources: readonly RouteSource[];
  readonly metrics: Metrics;
  /** Per host of an HTTPS route or a folder certificate; null without HTTPS. */
  readonly certificates?: (() => readonly CertificateStatus[]) | null;
  /** Told when a certificate is issued, renewed, added or removed. */
  readonly onCertificatesChange?: (listener: () => void) => void;
  /** Whether the first sync of every source is done. */
  readonly isReady: () => boolean;
  /** When set, every endpoint but /healthz and /readyz asks for it as a bearer token. */
  readonly token: string | null;
  /** With --workers: how the worker processes are doing. */
  readonly workers: (() => unknown) | null;
  readonly logger: Logger;
}

export interface AdminServer {
  readonly server: http.Server;
  close(): void;
}

type Json = { status: number; body: unknown };

// Probes carry no secrets and often cannot send headers.
const OPEN_PATHS = new Set(['/healthz', '/readyz']);
const DASHBOARD = new URL('./dashboard/', import.meta.url);

export function createAdminServer(options: AdminOptions): AdminServer {
  const { store, sources, metrics } = options;
  const changes = recordChanges(store);
  const status = () => ({
    ready: options.isReady(),
    tableVersion: store.current.version,
    sources: Object.fromEntries(sources.map((source) => [source.name, source.status])),
    ...(options.workers ? { workers: options.workers() } : {}),
  });
  const inventories = inventoriesOf(sources);
  const stream = createSnapshotStream(() => ({
    status: status(),
    ...routesView(store.current, store.conflicts),
    ...Object.fromEntries([...inventories].map(([name, items]) => [name, items()])),
    changes: changes(),
    certificates: options.certificates?.() ?? null,
  }));
  options.onCertificatesChange?.(() => stream.changed());
  store.onChange(() => stream.changed());
  for (const source of sources) source.onUpdate(() => stream.changed());

  const api: Record<string, () => Json> = {
    '/healthz': () => ({ status: 200, body: { status: 'ok' } }),
    '/readyz': () => (options.isReady() ? { status: 200, body: { status: 'ready' } } : { status: 503, body: { status: 'starting' } }),
    '/api/routes': () => ({ status: 200, body: routesView(store.current, store.conflicts) }),
    ...Object.fromEntries([...inventories].map(([name, items]) => [`/api/${name}`, () => ({ status: 200, body: { [name]: items() } })])),
    '/api/status': () => ({ status: 200, body: status() }),
    '/api/changes': () => ({ status: 200, body: { changes: changes() } }),
    '/api/certificates': () => ({ status: 200, body: { https: options.certificates != null, certificates: options.certificates?.() ?? [] } }),
  };

  const endpoints = [...Object.keys(api), '/api/stream', '/metrics', '/'];

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(req, res, { status: 405, body: { error: 'only GET' } });
    if (path === '/' || path.startsWith('/dashboard/')) return sendDashboard(req, res, path, endpoints);
    if (options.token !== null && !OPEN_PATHS.has(path) && !bearerMatches(req.headers.authorization, options.token)) {
      res.setHeader('www-authenticate', 'Bearer realm="berth admin"');
      return sendJson(req, res, { status: 401, body: { error: 'a valid bearer token is required' } });
    }
    if (path === '/metrics') return sendMetrics(req, res);
    if (path === '/api/stream') return stream.subscribe(res);
    const handler = api[path];
    sendJson(req, res, handler ? handler() : { status: 404, body: { error: `no such endpoint: ${path}`, endpoints } });
  });

  function sendMetrics(req: http.IncomingMessage, res: http.ServerResponse): void {
    metrics.render().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        // With --workers, one stalled or dying worker makes prom-client's aggregation reject.
        const message = 'metrics are unavailable: a worker did not answer in time; try again';
        options.logger.warn({ code: Codes.metricsUnavailable, err: error }, message);
        sendJson(req, res, { status: 503, body: { error: message, code: Codes.metricsUnavailable } });
      },
    );
  }

  return {
    server,
    close() {
      stream.close();
      server.close();
      server.closeAllConnections();
    },
  };
}

/**
 * What sources list beside routes, by name (`containers`, `services`); two sources with the same
 * kind of items are listed together. `containers` is always there, so the dashboard has its list.
 */
function inventoriesOf(sources: readonly RouteSource[]): Map<string, () => readonly unknown[]> {
  const byName = new Map<string, Array<() => readonly unknown[]>>([['containers', []]]);
  for (const source of sources) {
    if (!source.inventory) continue;
    const { name, items } = source.inventory;
    byName.set(name, [...(byName.get(name) ?? []), () => items()]);
  }
  return new Map([...byName].map(([name, lists]) => [name, () => lists.flatMap((items) => items())]));
}

/** The dashboard is static files; it asks for the token itself and sends it with its API calls. */
function sendDashboard(req: http.IncomingMessage, res: http.ServerResponse, path: string, endpoints: readonly string[]): void {
  if (path === '/' && !String(req.headers.accept ?? '').includes('text/html')) {
    return sendJson(req, res, { status: 200, body: { name: 'berth admin', endpoints } });
  }
  const name = path === '/' ? 'index.html' : path.slice('/dashboard/'.length);
  const type = DASHBOARD_TYPES[name.slice(name.lastIndexOf('.'))];
  if (!/^[a-z0-9-]+\.[a-z]+$/.test(name) || !type) return sendJson(req, res, { status: 404, body: { error: 'no such file' } });
  let content: Buffer;
  try {
    content = readFileSync(new URL(name, DASHBOARD));
  } catch {
    return sendJson(req, res, { status: 404, body: { error: 'no such file' } });
  }
  res.writeHead(200, { 'content-type': type, 'content-length': content.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
  res.end(req.method === 'HEAD' ? undefined : content);
}

const DASHBOARD_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

function sendJson(req: http.IncomingMessage, res: http.ServerResponse, { status, body }: Json): void {
  const json = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : json);
}
