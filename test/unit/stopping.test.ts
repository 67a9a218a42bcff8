import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DockerEvent } from '../../src/docker/events.js';
import { StoppingMarks } from '../../src/docker/stopping.js';

const SECOND = 1e9;

function event(action: string, time: number | null, signal: string | null = null): DockerEvent {
  return { type: 'container', action, containerId: 'c1', signal, time, attributes: {} };
}

function marks(graceMs = 60_000) {
  const clock = { now: 0 };
  return { clock, marks: new StoppingMarks(graceMs, () => clock.now) };
}

describe('StoppingMarks', () => {
  it('marks a container on a terminating kill and clears the mark on a later start', () => {
    const { marks: m } = marks();
    m.note(event('kill', 1 * SECOND, '15'));
    assert.equal(m.has('c1'), true);
    m.note(event('start', 2 * SECOND));
    assert.equal(m.has('c1'), false);
  });

  it('ignores the kill and stop of a restart whose events arrive reversed', () => {
    const { marks: m } = marks();
    for (const [action, time, signal] of [['restart', 5], ['start', 4], ['stop', 3], ['die', 2], ['kill', 1, '15']] as const) {
      m.note(event(action, time * SECOND, signal ?? null));
    }
    assert.equal(m.has('c1'), false);
  });

  it('ignores a duplicate of a kill that came before the latest start', () => {
    const { marks: m } = marks();
    const kill = event('kill', 1 * SECOND, 'SIGTERM');
    m.note(kill);
    m.note(event('start', 2 * SECOND));
    m.note(kill);
    assert.equal(m.has('c1'), false);
  });

  it('keeps the mark when a start older than the stop arrives late', () => {
    const { marks: m } = marks();
    m.note(event('stop', 3 * SECOND));
    m.note(event('start', 1 * SECOND));
    assert.equal(m.has('c1'), true);
  });

  it('follows arrival order for events without times', () => {
    const { marks: m } = marks();
    m.note(event('start', null));
    m.note(event('kill', null, '9'));
    assert.equal(m.has('c1'), true);
    m.note(event('start', null));
    assert.equal(m.has('c1'), false);
  });

  it('does not mark on a kill that only asks for a reload', () => {
    const { marks: m } = marks();
    m.note(event('kill', 1 * SECOND, 'SIGHUP'));
    assert.equal(m.has('c1'), false);
  });

  it('forgets the mark of a container no longer running, and of one still running after the grace', () => {
    const { clock, marks: m } = marks(1000);
    m.note(event('stop', 1 * SECOND));
    m.forget(new Set());
    assert.equal(m.has('c1'), false);
    m.note(event('stop', 2 * SECOND));
    clock.now = 1001;
    m.forget(new Set(['c1']));
    assert.equal(m.has('c1'), false);
  });

  it('still ignores a stale kill after a list that did not show the container, within the grace', () => {
    const { clock, marks: m } = marks(1000);
    m.note(event('start', 2 * SECOND));
    m.forget(new Set());
    m.note(event('kill', 1 * SECOND, '15'));
    assert.equal(m.has('c1'), false);
    clock.now = 1001;
    m.forget(new Set());
    m.note(event('kill', 1 * SECOND, '15'));
    assert.equal(m.has('c1'), true, 'the start time is forgotten once the grace is over');
  });
});
