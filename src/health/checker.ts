// Active HTTP health checks: the thin shell around HealthSchedule. It reads which endpoints to
// check from the current table (level-triggered: on every table change it re-derives the whole
// set), runs what is due, and hands the store the whole set of failures when one flips; the store
// rebuilds the table with them (health/overlay.ts). Nothing here touches a table.
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { Codes } from '../errors.js';
import { upstreamTlsOptions } from '../proxy/upstream-tls.js';
import type { RouteStore } from '../routes/store.js';
import type { RouteTable } from '../routes/table.js';
import { systemClock, type Clock } from '../util/clock.js';
import { checkHost, checkId, HEALTH_REASON } from './overlay.js';
import { HealthSchedule, type CheckResult, type HealthTarget } from './schedule.js';

/** Runs one check; resolves (never rejects) with what it found. */
export type Probe = (target: HealthTarget, signal: AbortSignal) => Promise<CheckResult>;

export interface HealthCheckerOptions {
  readonly store: RouteStore;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly probe?: Probe;
  /** Checks in flight at once, over every endpoint (a thousand endpoints are not checked in one burst). */
  readonly maxInFlight?: number;
}

/** The checks a table asks for: every endpoint of every pool with `health.path`, once per check id. */
export function healthTargets(table: RouteTable): HealthTarget[] {
  const targets = new Map<string, HealthTarget>();
  for (const pool of table.pools) {
    const health = pool.behaviours?.spec.health;
    if (!health) continue;
    for (const endpoint of pool.endpoints) {
      // An endpoint Docker holds back is not checked: it rejoins as new once Docker lets it go.
      // (Docker's own "health check failing" has no colon: such a container is Docker's to hold.)
      if (!endpoint.ready && !endpoint.notReadyReason?.startsWith(`${HEALTH_REASON}: `)) continue;
      const id = checkId(endpoint, health, pool.host);
      if (!targets.has(id)) targets.set(id, { id, endpoint, health, host: checkHost(endpoint, pool.host) });
    }
  }
  return [...targets.values()];
}

export class HealthChecker {
  private readonly schedule = new HealthSchedule();
  private readonly clock: Clock;
  private readonly probe: Probe;
  private readonly maxInFlight: number;
  private readonly running = new Map<string, AbortController>();
  private timer: { cancel(): void } | null = null;
  private timerAt = Infinity;
  private started = false;

  constructor(private readonly options: HealthCheckerOptions) {
    this.clock = options.clock ?? systemClock;
    this.probe = options.probe ?? httpProbe;
    this.maxInFlight = options.maxInFlight ?? 64;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    // After the listeners of this change have all heard it: a table built from inside one would
    // reach the listeners after this one before the change they are still to hear.
    this.options.store.onChange(() => queueMicrotask(() => this.sync()));
    this.sync();
  }

  stop(): void {
    this.started = false;
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = Infinity;
    for (const controller of this.running.values()) controller.abort();
    this.running.clear();
  }

  /** Re-derives the checks from the current table; cheap when nothing changed. */
  private sync(): void {
    if (!this.started) return;
    if (this.schedule.sync(healthTargets(this.options.store.current), this.clock.now())) this.publish();
    this.runDue();
  }

  private runDue(): void {
    if (!this.started) return;
    for (const { target, run } of this.schedule.due(this.clock.now(), this.maxInFlight)) {
      const controller = new AbortController();
      this.running.set(target.id, controller);
      this.probe(target, controller.signal)
        .catch((error: unknown): CheckResult => ({ ok: false, reason: String(error) }))
        .then((result) => {
          if (this.running.get(target.id) === controller) this.running.delete(target.id);
          if (!this.started || controller.signal.aborted) return;
          if (this.schedule.report(target.id, run, result, this.clock.now())) this.flipped(target, result);
          this.runDue();
        })
        .catch((error: unknown) => this.options.logger.error({ code: Codes.internal, err: error }, 'a health check result could not be used'));
    }
    this.arm();
  }

  private flipped(target: HealthTarget, result: CheckResult): void {
    const { endpoint, health } = target;
    const upstream = endpoint.container?.name ?? endpoint.origin ?? endpoint.key;
    if (result.ok) this.options.logger.info({ upstream, path: health.path }, 'health check passing again; the endpoint rejoins its pool');
    else this.options.logger.warn({ code: Codes.healthFailing, upstream, path: health.path, reason: result.reason }, 'health check failing; the endpoint leaves its pool');
    this.publish();
  }

  private publish(): void {
    this.options.store.setHealth(this.schedule.failures());
  }

  /** One timer, for the earliest idle check. */
  private arm(): void {
    const next = this.schedule.nextDue();
    if (next === null || next >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = next;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = null;
        this.timerAt = Infinity;
        this.runDue();
      },
      Math.max(0, next - this.clock.now()),
    );
  }
}

/** A GET of the health path on the endpoint's own address, never following a redirect; 2xx and 3xx pass. */
export const httpProbe: Probe = (target, signal) =>
  new Promise<CheckResult>((resolve) => {
    const { endpoint, health, host } = target;
    const secure = endpoint.scheme === 'https';
    // SNI as requests send it: Node takes it from the Host header (not for IP addresses).
    const tls = secure ? upstreamTlsOptions(endpoint) : {};
    let settled = false;
    const finish = (result: CheckResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      request.destroy();
      resolve(result);
    };
    const request = (secure ? https : http).request({
      host: endpoint.address,
      port: endpoint.port,
      method: 'GET',
      path: health.path,
      // A connection per check: nothing pooled is left to go stale between intervals.
      agent: false,
      headers: { host, 'user-agent': 'berth-health-check', accept: '*/*', connection: 'close' },
      ...tls,
    });
    const timer = setTimeout(() => finish({ ok: false, reason: `no answer within ${health.timeoutMs}ms` }), health.timeoutMs);
    const onAbort = () => finish({ ok: false, reason: 'stopped' });
    signal.addEventListener('abort', onAbort);
    // Only the status is read: the body is dropped with the connection.
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      finish(status >= 200 && status < 400 ? { ok: true } : { ok: false, reason: `status ${status}` });
    });
    request.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, reason: describeError(error) }));
    request.end();
  });

function describeError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'address unreachable';
    default:
      return error.code ? `${error.code.toLowerCase()}` : error.message;
  }
}
