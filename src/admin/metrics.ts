// Prometheus metrics: traffic counted as it happens, state (routes, Docker) read when scraped.
// With --workers, each worker counts its own traffic and the primary adds them up.
import type { CertificateStatus } from '../certs/types.js';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProxyObserver } from '../proxy/observer.js';
import type { RouteStore } from '../routes/store.js';
import type { RouteSource } from '../sources/source.js';

export interface Metrics {
  readonly contentType: string;
  render(): Promise<string>;
}

/** One process serving traffic and watching sources. */
/** Per host, what certificate is served and when it ends (null without HTTPS). */
export type CertificateStatuses = (() => readonly CertificateStatus[]) | null;

export function createMetrics(store: RouteStore, sources: readonly RouteSource[], certificates: CertificateStatuses = null): Metrics & { observer: ProxyObserver } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'berth_' });
  stateMetrics(registry, store, sources);
  if (certificates) certificateMetrics(registry, certificates);
  return { observer: trafficMetrics(registry), contentType: registry.contentType, render: () => registry.metrics() };
}

/** The primary of a cluster: its own state metrics, plus every worker's traffic added up. */
export function createClusterMetrics(store: RouteStore, sources: readonly RouteSource[], certificates: CertificateStatuses = null): Metrics {
  const registry = new Registry();
  stateMetrics(registry, store, sources);
  if (certificates) certificateMetrics(registry, certificates);
  const workers = new AggregatorRegistry();
  return {
    contentType: registry.contentType,
    render: async () => (await registry.metrics()) + '\n' + (await workers.clusterMetrics()),
  };
}

/** A cluster worker: counts its traffic and answers the primary's requests for it. */
export function createWorkerMetrics(): ProxyObserver {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'berth_' });
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry();
  return trafficMetrics(registry);
}

const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];
// Counter slots after the status classes: a status outside them, and a client that left first.
const OTHER = STATUS_CLASSES.length;
const ABORTED = STATUS_CLASSES.length + 1;

interface HostMetrics {
  readonly duration: Histogram.Internal<'host'>;
  /** By status class index, then OTHER and ABORTED. */
  readonly counters: Counter.Internal[];
}

function trafficMetrics(registry: Registry): ProxyObserver {
  const registers = [registry];
  const requests = new Counter({ name: 'berth_requests_total', help: 'Requests answered, by route host and status class', labelNames: ['host', 'status_class'] as const, registers });
  const duration = new Histogram({
    name: 'berth_request_duration_seconds',
    help: 'Time from request to the end of the response, by route host',
    labelNames: ['host'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const upstreamErrors = new Counter({ name: 'berth_upstream_errors_total', help: 'Upstream failures, by code', labelNames: ['code'] as const, registers });
  const retries = new Counter({ name: 'berth_retries_total', help: 'Requests replayed on another endpoint', registers });
  const connections = new Gauge({ name: 'berth_active_connections', help: 'Open client connections', registers });
  const websockets = new Gauge({ name: 'berth_active_websockets', help: 'Established WebSockets', registers });
  // Label lookups hash their labels on every call: each route host keeps its children, found by
  // one Map lookup on the host, the counter then by the status class's index.
  const byHost = new Map<string, HostMetrics>();
  const hostMetrics = (host: string): HostMetrics => {
    let found = byHost.get(host);
    if (!found) byHost.set(host, (found = { duration: duration.labels({ host }), counters: [] }));
    return found;
  };
  const counterOf = (metrics: HostMetrics, host: string, index: number): Counter.Internal => {
    let counter = metrics.counters[index];
    if (!counter) {
      // A client that left before the end got no answer worth a status class.
      const statusClass = index === ABORTED ? 'aborted' : (STATUS_CLASSES[index] ?? 'other');
      metrics.counters[index] = counter = requests.labels({ host, status_class: statusClass });
    }
    return counter;
  };
  return {
    request(record) {
      const host = record.routeHost ?? 'none';
      const metrics = hostMetrics(host);
      const classIndex = Math.floor(record.status / 100);
      const index = record.aborted ? ABORTED : classIndex >= 0 && classIndex < STATUS_CLASSES.length ? classIndex : OTHER;
      counterOf(metrics, host, index).inc();
      metrics.duration.observe(record.durationMs / 1000);
    },
    upstreamError: (code) => upstreamErrors.inc({ code }),
    retry: () => retries.inc(),
    connections: (delta) => connections.inc(delta),
    websockets: (delta) => websockets.inc(delta),
  };
}

function certificateMetrics(registry: Registry, certificates: () => readonly CertificateStatus[]): void {
  new Gauge({
    name: 'berth_certificate_expiry_seconds',
    help: 'Seconds until the certificate served for a host ends (negative: ended), by host and source',
    labelNames: ['host', 'source'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const now = Date.now();
      for (const status of certificates()) {
        if (status.notAfter !== null) this.set({ host: status.host, source: status.source }, Math.round((Date.parse(status.notAfter) - now) / 1000));
      }
    },
  });
}

function stateMetrics(registry: Registry, store: RouteStore, sources: readonly RouteSource[]): void {
  const registers = [registry];
  const tableChanges = new Counter({ name: 'berth_table_changes_total', help: 'Route table swaps', registers });
  store.onChange(() => tableChanges.inc());
  new Gauge({
    name: 'berth_routes',
    help: 'Routes (host and path) in the table',
    registers,
    collect() {
      this.set(store.current.pools.length);
    },
  });
  new Gauge({
    name: 'berth_endpoints',
    help: 'Endpoints in the table, by readiness',
    labelNames: ['ready'] as const,
    registers,
    collect() {
      const endpoints = store.current.pools.flatMap((pool) => pool.endpoints);
      const ready = endpoints.filter((endpoint) => endpoint.ready).length;
      this.set({ ready: 'true' }, ready);
      this.set({ ready: 'false' }, endpoints.length - ready);
    },
  });
  sourceMetrics(registry, sources);
}

/** Each source's state by name, and its own numbers, read from it when scraped so they cannot drift. */
function sourceMetrics(registry: Registry, sources: readonly RouteSource[]): void {
  const registers = [registry];
  new Gauge({
    name: 'berth_source_up',
    help: '1 while a route source is in step with its input (state ok), by source',
    labelNames: ['source'] as const,
    registers,
    collect() {
      for (const source of sources) this.set({ source: source.name }, source.status.state === 'ok' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'berth_source_problems',
    help: 'Items a route source skipped (bad labels, lines, entries), by source',
    labelNames: ['source'] as const,
    registers,
    collect() {
      for (const source of sources) this.set({ source: source.name }, source.status.problems.length);
    },
  });
  for (const source of sources) {
    for (const { name, help, type } of source.metrics()) {
      const read = () => source.metrics().find((metric) => metric.name === name)?.value ?? 0;
      if (type === 'gauge') {
        new Gauge({ name, help, registers, collect() { this.set(read()); } });
      } else {
        new Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });
      }
    }
  }
}
