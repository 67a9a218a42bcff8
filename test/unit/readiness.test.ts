import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSummary } from '../../src/docker/container.js';
import { healthFromStatus, readiness } from '../../src/docker/readiness.js';

function container(overrides: Partial<ContainerSummary> = {}): ContainerSummary {
  return {
    id: 'c1',
    name: 'web',
    labels: {},
    state: 'running',
    status: 'Up 1 minute',
    health: null,
    ports: [80],
    networks: { bridge: '172.17.0.2' },
    networkMode: 'bridge',
    ...overrides,
  };
}

describe('readiness', () => {
  it('is ready when running without a healthcheck', () => {
    assert.equal(readiness(container(), false), null);
  });

  it('is ready when running and healthy', () => {
    assert.equal(readiness(container({ health: 'healthy' }), false), null);
  });

  it('is not ready while the health check is starting', () => {
    assert.equal(typeof readiness(container({ health: 'starting' }), false), 'string');
  });

  it('is not ready while the health check fails', () => {
    assert.equal(typeof readiness(container({ health: 'unhealthy' }), false), 'string');
  });

  it('is not ready once the container is stopping, even when healthy', () => {
    assert.equal(typeof readiness(container({ health: 'healthy' }), true), 'string');
    assert.equal(typeof readiness(container(), true), 'string');
  });

  for (const state of ['paused', 'restarting', 'exited', 'created', 'dead']) {
    it(`is not ready when the container is ${state}`, () => {
      assert.equal(typeof readiness(container({ state }), false), 'string');
    });
  }
});

describe('healthFromStatus', () => {
  it('reads healthy, unhealthy and starting from the status text', () => {
    assert.equal(healthFromStatus('Up 3 minutes (healthy)'), 'healthy');
    assert.equal(healthFromStatus('Up 10 seconds (unhealthy)'), 'unhealthy');
    assert.equal(healthFromStatus('Up 2 seconds (health: starting)'), 'starting');
  });

  it('reads no health from a container without a healthcheck', () => {
    assert.equal(healthFromStatus('Up 2 hours'), null);
    assert.equal(healthFromStatus('Exited (0) 3 seconds ago'), null);
    assert.equal(healthFromStatus(''), null);
  });

  it('is not fooled by "healthy" inside "unhealthy"', () => {
    assert.equal(healthFromStatus('Up 1 minute (unhealthy)'), 'unhealthy');
  });
});
