import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSummary } from '../../src/docker/container.js';
import type { DockerEvent } from '../../src/docker/events.js';
import { expectationOf, FollowUps, FOLLOW_UP_DELAYS_MS } from '../../src/docker/follow-up.js';
import type { Clock } from '../../src/util/clock.js';

function container(overrides: Partial<ContainerSummary> = {}): ContainerSummary {
  return { id: 'c1', name: 'web', labels: {}, state: 'running', status: 'Up', health: null, ports: [80], networks: { bridge: '172.17.0.2' }, networkMode: 'bridge', ...overrides };
}

function event(type: string, action: string, attributes: Record<string, string> = {}): DockerEvent {
  return { type, action, containerId: 'c1', signal: null, time: null, attributes: type === 'network' ? { container: 'c1', ...attributes } : attributes };
}

/** A clock the test moves by hand; timers fire as it passes them. */
function manualClock() {
  let now = 0;
  let timers: Array<{ at: number; fire: () => void; cancelled: boolean }> = [];
  const clock: Clock = {
    now: () => now,
    setTimeout(fire, ms) {
      const timer = { at: now + ms, fire, cancelled: false };
      timers.push(timer);
      return { cancel: () => void (timer.cancelled = true) };
    },
  };
  return {
    clock,
    advance(ms: number) {
      now += ms;
      const due = timers.filter((timer) => !timer.cancelled && timer.at <= now);
      timers = timers.filter((timer) => !due.includes(timer));
      for (const timer of due) timer.fire();
    },
    get now() {
      return now;
    },
    armed: () => timers.filter((timer) => !timer.cancelled).length,
  };
}

describe('expectationOf: what the list must show after an event', () => {
  const cases: Array<[string, DockerEvent, ContainerSummary[], ContainerSummary[]]> = [
    ['pause: the container paused', event('container', 'pause'), [container({ state: 'paused' })], [container()]],
    ['unpause: the container running', event('container', 'unpause'), [container()], [container({ state: 'paused' })]],
    ['start: the container running', event('container', 'start'), [container()], []],
    ['die: the container gone or not running', event('container', 'die'), [], [container()]],
    ['destroy: the container gone', event('container', 'destroy'), [container({ state: 'restarting' })], [container({ state: 'paused' })]],
    ['connect: an address on that network', event('network', 'connect', { name: 'front' }), [container({ networks: { bridge: '172.17.0.2', front: '10.0.0.2' } })], [container()]],
    ['disconnect: no address on that network', event('network', 'disconnect', { name: 'bridge' }), [container({ networks: {} })], [container()]],
    ['health_status: that health', event('container', 'health_status: healthy'), [container({ health: 'healthy' })], [container({ health: 'starting' })]],
    ['rename: the new name', event('container', 'rename', { name: 'shop', oldName: '/web' }), [container({ name: 'shop' })], [container()]],
  ];
  for (const [what, given, agrees, disagrees] of cases) {
    it(`expects, after ${what}`, () => {
      const expectation = expectationOf(given);
      assert.ok(expectation);
      assert.equal(expectation.holds(agrees), true, 'a list that agrees');
      assert.equal(expectation.holds(disagrees), false, 'a list that does not yet');
    });
  }

  it('expects nothing of a kill, an update or a network event without a container', () => {
    assert.equal(expectationOf(event('container', 'kill')), null);
    assert.equal(expectationOf(event('container', 'update')), null);
    assert.equal(expectationOf({ ...event('network', 'connect', { name: 'front' }), containerId: null }), null);
  });

  it('gives a pause and the unpause after it one key, so the newer replaces the older', () => {
    assert.equal(expectationOf(event('container', 'pause'))?.key, expectationOf(event('container', 'unpause'))?.key);
  });
});

describe('FollowUps: looking again until the list agrees', () => {
  const paused = expectationOf(event('container', 'pause'))!;

  it('looks again at 50, 150, 350, 750 and 1550 ms while the list disagrees, then gives up', () => {
    const time = manualClock();
    const looks: number[] = [];
    const followUps = new FollowUps(time.clock, () => {
      looks.push(time.now);
      followUps.settle([container()], time.now);
    });
    followUps.expect(paused);
    followUps.settle([container()], time.now);
    for (let i = 0; i < 40; i++) time.advance(50);
    assert.deepEqual(looks, [50, 150, 350, 750, 1550]);
    assert.equal(FOLLOW_UP_DELAYS_MS.reduce((sum, ms) => sum + ms, 0), 1550);
    assert.deepEqual(followUps.keys, []);
    assert.equal(time.armed(), 0);
  });

  it('stops looking as soon as a list agrees', () => {
    const time = manualClock();
    const looks: number[] = [];
    const followUps = new FollowUps(time.clock, () => {
      looks.push(time.now);
      followUps.settle([container({ state: looks.length >= 2 ? 'paused' : 'running' })], time.now);
    });
    followUps.expect(paused);
    for (let i = 0; i < 40; i++) time.advance(50);
    assert.deepEqual(looks, [50, 150]);
    assert.deepEqual(followUps.keys, []);
  });

  it('does not count a list asked for before a look was due as that look', () => {
    const time = manualClock();
    let looks = 0;
    const followUps = new FollowUps(time.clock, () => looks++);
    followUps.expect(paused);
    time.advance(20);
    followUps.settle([container()], 10);
    time.advance(30);
    assert.equal(looks, 1, 'the 50 ms look still happens');
  });

  it('forgets everything when cleared, as on a lost stream', () => {
    const time = manualClock();
    let looks = 0;
    const followUps = new FollowUps(time.clock, () => looks++);
    followUps.expect(paused);
    followUps.clear();
    time.advance(2000);
    assert.equal(looks, 0);
    assert.deepEqual(followUps.keys, []);
  });
});
