// Health checks: the schedule's timing and flips with plain numbers, and the checker driven by a
// fake clock and probe against a real store, so the overlay is seen in the tables it builds.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { HealthSpec } from '../../src/behaviours/spec.js';
import { HealthChecker, healthTargets, type Probe } from '../../src/health/checker.js';
import { checkHost, checkId } from '../../src/health/overlay.js';
import { HealthSchedule, type CheckResult, type HealthTarget } from '../../src/health/schedule.js';
import { RouteStore } from '../../src/routes/store.js';
import type { Endpoint, RouteSpec } from '../../src/routes/types.js';
import { fakeClock } from '../support/fake-clock.js';

const health: HealthSpec = { path: '/healthz', intervalMs: 1000, timeoutMs: 200 };
const FAIL: CheckResult = { ok: false, reason: 'status 500' };
const PASS: CheckResult = { ok: true };

function endpoint(key: string, overrides: Partial<Endpoint> = {}): Endpoint {
  return { key, scheme: 'http', address: '127.0.0.1', port: Number(key.replace(/\D/g, '') || 80), ready: true, stripPrefix: false, ...overrides };
}

function target(key: string, spec: HealthSpec = health): HealthTarget {
  const one = endpoint(key);
  return { id: checkId(one, spec, 'a.test'), endpoint: one, health: spec, host: 'a.test' };
}

describe('HealthSchedule', () => {
  it('checks a new target at once, then an interval after each check started', () => {
    const schedule = new HealthSchedule();
    const one = target('e1');
    schedule.sync([one], 0);
    const [first] = schedule.due(0);
    assert.equal(first?.target.id, one.id);
    assert.deepEqual(schedule.due(0), [], 'one in flight per target');
    assert.equal(schedule.nextDue(), null, 'nothing idle while it runs');
    schedule.report(one.id, first!.run, PASS, 150);
    assert.equal(schedule.nextDue(), 1000);
    assert.deepEqual(schedule.due(999), []);
    assert.equal(schedule.due(1000).length, 1);
  });

  it('is due at once again when a check took longer than the interval', () => {
    const schedule = new HealthSchedule();
    const one = target('e1');
    schedule.sync([one], 0);
    const [run] = schedule.due(0);
    schedule.report(one.id, run!.run, PASS, 1500);
    assert.equal(schedule.nextDue(), 1500);
  });

  it('flips only when a result changes sides, keeping the first reason', () => {
    const schedule = new HealthSchedule();
    const one = target('e1');
    schedule.sync([one], 0);
    const results: boolean[] = [];
    let now = 0;
    for (const result of [PASS, FAIL, { ok: false, reason: 'connection refused' } as CheckResult, FAIL, PASS, PASS]) {
      const [run] = schedule.due(now);
      results.push(schedule.report(one.id, run!.run, result, now + 10));
      if (!result.ok) assert.equal(schedule.failures().get(one.id), 'status 500');
      now += 1000;
    }
    assert.deepEqual(results, [false, true, false, false, true, false]);
    assert.equal(schedule.failures().size, 0);
  });

  it('forgets a removed target (a failing one changes the failures) and ignores its late result', () => {
    const schedule = new HealthSchedule();
    const [one, two] = [target('e1'), target('e2')];
    schedule.sync([one, two], 0);
    const runs = schedule.due(0);
    schedule.report(one.id, runs[0]!.run, FAIL, 5);
    assert.equal(schedule.sync([two], 10), true, 'a failing target left');
    assert.equal(schedule.failures().size, 0);
    schedule.sync([one, two], 20);
    assert.equal(schedule.report(one.id, runs[0]!.run, FAIL, 30), false, 'a result of the removed run is not the new one');
    assert.equal(schedule.sync([one], 40), false, 'a passing target left: nothing to rebuild');
  });

  it('bounds checks in flight over every target', () => {
    const schedule = new HealthSchedule();
    schedule.sync(['e1', 'e2', 'e3'].map((key) => target(key)), 0);
    assert.equal(schedule.due(0, 2).length, 2);
    assert.equal(schedule.due(0, 2).length, 0);
  });

  it('brings a check forward when the interval shrinks', () => {
    const schedule = new HealthSchedule();
    const slow = target('e1', { ...health, intervalMs: 60_000 });
    schedule.sync([slow], 0);
    const [run] = schedule.due(0);
    schedule.report(slow.id, run!.run, PASS, 0);
    assert.equal(schedule.nextDue(), 60_000);
    schedule.sync([{ ...slow, health: { ...health, intervalMs: 500 } }], 100);
    assert.equal(schedule.nextDue(), 600);
  });
});

describe('checkHost and healthTargets', () => {
  it('sends the route host, or the address for any-host and wildcard routes, or the upstream host', () => {
    assert.equal(checkHost(endpoint('e1', { port: 8080 }), 'a.test'), 'a.test');
    assert.equal(checkHost(endpoint('e1', { port: 8080 }), null), '127.0.0.1:8080');
    assert.equal(checkHost(endpoint('e1', { port: 80 }), '*.a.test'), '127.0.0.1');
    assert.equal(checkHost(endpoint('e1', { address: 'example.com', scheme: 'https', port: 443, upstreamHost: true }), 'a.test'), 'example.com');
    assert.equal(checkHost(endpoint('e1', { address: '::1', port: 81 }), null), '[::1]:81');
  });
});

function routes(ports: number[], behaviours: RouteSpec['behaviours'] = { health }): RouteSpec[] {
  return ports.map((port) => ({ host: 'a.test', path: '/', source: 'file', endpoint: endpoint(`http://127.0.0.1:${port}`, { port }), behaviours }));
}

describe('HealthChecker', () => {
  const logger = pino({ level: 'silent' });

  function setUp(ports = [9001, 9002]) {
    const store = new RouteStore(['file']);
    store.update('file', routes(ports));
    const { clock, advance, pending } = fakeClock();
    const failing = new Set<number>();
    const checked: number[] = [];
    const probe: Probe = async (one) => {
      checked.push(one.endpoint.port);
      return failing.has(one.endpoint.port) ? { ok: false, reason: 'status 500' } : { ok: true };
    };
    const changes: number[] = [];
    store.onChange((change) => changes.push(change.version));
    const checker = new HealthChecker({ store, logger, clock, probe });
    const ready = () => store.current.match('a.test', '/')!.ready.map((one) => one.port);
    return { store, checker, advance, pending, failing, checked, changes, ready };
  }

  it('takes a failing endpoint out within an interval and back when it passes, rebuilding only on flips', async () => {
    const { store, checker, advance, failing, checked, changes, ready } = setUp();
    checker.start();
    await advance(0);
    assert.deepEqual(checked.sort(), [9001, 9002]);
    assert.deepEqual(ready(), [9001, 9002]);
    assert.deepEqual(changes, [], 'passing checks rebuild nothing');

    failing.add(9002);
    await advance(1000);
    assert.deepEqual(ready(), [9001]);
    const reason = store.current.match('a.test', '/')!.endpoints.find((one) => one.port === 9002)!.notReadyReason;
    assert.equal(reason, 'health check failing: status 500');
    assert.equal(changes.length, 1);

    await advance(3000);
    assert.equal(changes.length, 1, 'still failing: no rebuild');
    assert.equal(checked.filter((port) => port === 9002).length, 5, 'a failing endpoint is still checked every interval');

    failing.delete(9002);
    await advance(1000);
    assert.deepEqual(ready(), [9001, 9002]);
    assert.equal(changes.length, 2);
    checker.stop();
  });

  it('follows the table: a new endpoint is checked at once, a removed one is dropped with its failure', async () => {
    const { store, checker, advance, failing, checked, ready } = setUp([9001]);
    checker.start();
    await advance(0);
    failing.add(9003);
    store.update('file', routes([9001, 9003]));
    await advance(0);
    assert.ok(checked.includes(9003));
    assert.deepEqual(ready(), [9001]);
    store.update('file', routes([9001]));
    await advance(0);
    assert.deepEqual(store.healthFailures(), {});
    await advance(5000);
    assert.equal(checked.filter((port) => port === 9003).length, 1);
    checker.stop();
  });

  it('checks nothing for routes without health.path, and nothing after stop', async () => {
    const store = new RouteStore(['file']);
    store.update('file', routes([9001], { compress: true }));
    assert.deepEqual(healthTargets(store.current), []);
    const { checker, advance, checked, pending } = setUp();
    checker.start();
    await advance(0);
    checker.stop();
    const before = checked.length;
    await advance(10_000);
    assert.equal(checked.length, before);
    assert.equal(pending(), 0);
  });

  it('leaves an endpoint Docker holds back to Docker, its own failing health check included', () => {
    const store = new RouteStore(['file']);
    const held = (key: string, notReadyReason: string): RouteSpec => ({ host: 'a.test', path: '/', source: 'file', endpoint: endpoint(key, { ready: false, notReadyReason }), behaviours: { health } });
    store.update('file', [held('c1', 'container is stopping'), held('c2', 'health check failing')]);
    assert.deepEqual(healthTargets(store.current), []);
  });

  it('forgets the failure of an endpoint the routes drop without another table', async () => {
    const { store, checker, advance, failing } = setUp([9001]);
    checker.start();
    await advance(0);
    failing.add(9003);
    const heard: number[] = [];
    store.update('file', routes([9001, 9003]));
    await advance(0);
    assert.equal(store.current.match('a.test', '/')!.ready.length, 1);
    store.onChange((change) => heard.push(change.version));
    store.update('file', routes([9001]));
    await advance(0);
    assert.equal(heard.length, 1, 'the new routes; forgetting the failure of an endpoint no pool holds changes no pool');
    assert.deepEqual(store.healthFailures(), {});
    checker.stop();
  });
});

describe('RouteStore.setHealth', () => {
  it('rebuilds only when the set of failures differs, and applies it to ready endpoints of checked routes', () => {
    const store = new RouteStore(['file']);
    store.update('file', [...routes([9001, 9002]), { host: 'b.test', path: '/', source: 'file', endpoint: endpoint('http://127.0.0.1:9002', { port: 9002 }) }]);
    const failing = store.current.match('a.test', '/')!.endpoints[1]!;
    const id = checkId(failing, health, 'a.test');
    assert.ok(store.setHealth({ [id]: 'connection refused' }));
    assert.equal(store.setHealth(new Map([[id, 'connection refused']])), null);
    assert.deepEqual(store.current.match('a.test', '/')!.ready.map((one) => one.port), [9001]);
    assert.deepEqual(store.current.match('b.test', '/')!.ready.map((one) => one.port), [9002], 'a route without checks keeps it');
    assert.ok(store.setHealth({}));
    assert.equal(store.current.match('a.test', '/')!.ready.length, 2);
  });
});
