import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRelevant, isRevival, isTerminating, parseEvent, type DockerEvent } from '../../src/docker/events.js';

function event(overrides: Partial<DockerEvent>): DockerEvent {
  return { type: 'container', action: 'start', containerId: 'abc', signal: null, time: null, attributes: {}, ...overrides };
}

function kill(signal: string | null): DockerEvent {
  return event({ action: 'kill', signal });
}

describe('parseEvent', () => {
  it('reads a current-style container event', () => {
    const line = JSON.stringify({
      Type: 'container',
      Action: 'start',
      Actor: { ID: 'abc123', Attributes: { name: 'web', image: 'busybox' } },
      scope: 'local',
      time: 1700000000,
    });
    assert.deepEqual(parseEvent(line), { type: 'container', action: 'start', containerId: 'abc123', signal: null, time: 1700000000e9, attributes: { name: 'web', image: 'busybox' } });
  });

  it('reads the signal of a kill event', () => {
    const line = JSON.stringify({ Type: 'container', Action: 'kill', Actor: { ID: 'abc', Attributes: { signal: '15' } } });
    assert.deepEqual(parseEvent(line), { type: 'container', action: 'kill', containerId: 'abc', signal: '15', time: null, attributes: { signal: '15' } });
  });

  it('reads an old-style event with status and id and no Type', () => {
    const line = JSON.stringify({ status: 'die', id: 'def456', from: 'busybox', time: 1700000000 });
    assert.deepEqual(parseEvent(line), { type: 'container', action: 'die', containerId: 'def456', signal: null, time: 1700000000e9, attributes: {} });
  });

  it('takes the container id of a network event from Actor.Attributes.container', () => {
    const line = JSON.stringify({ Type: 'network', Action: 'connect', Actor: { ID: 'net789', Attributes: { container: 'abc123', name: 'front', type: 'bridge' } } });
    assert.deepEqual(parseEvent(line), { type: 'network', action: 'connect', containerId: 'abc123', signal: null, time: null, attributes: { container: 'abc123', name: 'front', type: 'bridge' } });
  });

  it('takes the time in nanoseconds from timeNano when the line has it', () => {
    const line = JSON.stringify({ Type: 'container', Action: 'kill', Actor: { ID: 'abc', Attributes: {} }, time: 1700000000, timeNano: 1700000000123456789 });
    assert.equal(parseEvent(line)?.time, 1700000000123456789);
  });

  it('gives a network event without a container attribute no container id', () => {
    const line = JSON.stringify({ Type: 'network', Action: 'create', Actor: { ID: 'net789', Attributes: { name: 'front' } } });
    assert.equal(parseEvent(line)?.containerId, null);
  });

  it('reads a health status action as it comes', () => {
    const line = JSON.stringify({ Type: 'container', Action: 'health_status: healthy', Actor: { ID: 'abc', Attributes: {} } });
    assert.equal(parseEvent(line)?.action, 'health_status: healthy');
  });

  for (const line of ['not json', '{"Type":"container"', 'null', '42', '"start"', '{}', '{"Type":"container","Action":""}']) {
    it(`returns undefined for the line ${line}`, () => {
      assert.equal(parseEvent(line), undefined);
    });
  }
});

describe('isRelevant', () => {
  for (const action of ['start', 'die', 'stop', 'kill', 'destroy', 'pause', 'unpause', 'rename', 'restart', 'update', 'health_status: healthy', 'health_status: unhealthy']) {
    it(`treats container ${action} as relevant`, () => {
      assert.equal(isRelevant(event({ action })), true);
    });
  }

  for (const action of ['exec_start: sh -c true', 'exec_create: ls', 'attach', 'top', 'resize', 'create']) {
    it(`treats container ${action} as irrelevant`, () => {
      assert.equal(isRelevant(event({ action })), false);
    });
  }

  it('treats network connect and disconnect as relevant, other network events not', () => {
    assert.equal(isRelevant(event({ type: 'network', action: 'connect' })), true);
    assert.equal(isRelevant(event({ type: 'network', action: 'disconnect' })), true);
    assert.equal(isRelevant(event({ type: 'network', action: 'create' })), false);
    assert.equal(isRelevant(event({ type: 'network', action: 'destroy' })), false);
  });

  it('treats image and volume events as irrelevant', () => {
    assert.equal(isRelevant(event({ type: 'image', action: 'pull' })), false);
    assert.equal(isRelevant(event({ type: 'volume', action: 'destroy' })), false);
  });
});

describe('isTerminating', () => {
  for (const signal of ['SIGTERM', '15', 'SIGKILL', '9', 'SIGINT', '2', 'SIGQUIT', '3', 'TERM', 'sigterm', '37']) {
    it(`treats kill with ${signal} as terminating`, () => {
      assert.equal(isTerminating(kill(signal)), true);
    });
  }

  for (const signal of ['SIGHUP', '1', 'SIGUSR1', '10', 'SIGWINCH', '28', 'SIGUSR2', '12']) {
    it(`does not treat kill with ${signal} as terminating`, () => {
      assert.equal(isTerminating(kill(signal)), false);
    });
  }

  it('treats stop as terminating', () => {
    assert.equal(isTerminating(event({ action: 'stop' })), true);
  });

  it('does not treat a kill without a signal as terminating', () => {
    assert.equal(isTerminating(kill(null)), false);
    assert.equal(isTerminating(kill('')), false);
  });

  it('does not treat other container actions or non-container events as terminating', () => {
    assert.equal(isTerminating(event({ action: 'die' })), false);
    assert.equal(isTerminating(event({ action: 'start' })), false);
    assert.equal(isTerminating(event({ type: 'network', action: 'stop' })), false);
  });
});

describe('isRevival', () => {
  it('treats start, restart and unpause as revivals', () => {
    for (const action of ['start', 'restart', 'unpause']) assert.equal(isRevival(event({ action })), true, action);
  });

  it('does not treat die, stop, kill or network events as revivals', () => {
    for (const action of ['die', 'stop', 'kill', 'pause']) assert.equal(isRevival(event({ action })), false, action);
    assert.equal(isRevival(event({ type: 'network', action: 'start' })), false);
  });
});
