import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSummary } from '../../src/docker/container.js';
import { findOwn, fixedLocator, placementOf } from '../../src/docker/own.js';

function container(id: string, overrides: Partial<ContainerSummary> = {}): ContainerSummary {
  return { id, name: `n-${id.slice(0, 4)}`, labels: {}, state: 'running', status: 'Up', health: null, ports: [], networks: {}, networkMode: 'bridge', ...overrides };
}

const full = 'a'.repeat(64);
const other = 'b'.repeat(64);

describe('finding berth\'s own container', () => {
  it('takes the first candidate found, by full id or by the short id Docker uses as hostname', () => {
    const list = [container(other), container(full)];
    assert.equal(findOwn(list, [full, other.slice(0, 12)])?.id, full);
    assert.equal(findOwn(list, ['c'.repeat(64), other.slice(0, 12)])?.id, other);
  });

  it('finds none on the host, where there is no candidate', () => {
    assert.equal(findOwn([container(full)], fixedLocator().candidates()), null);
  });

  it('places berth on the networks it has an address on, reaching the host at the first one\'s gateway', () => {
    const own = container(full, { networks: { zeta: '10.0.9.5', alpha: '10.0.1.5', none: '' }, gateways: { zeta: '10.0.9.1', alpha: '10.0.1.1' } });
    assert.deepEqual(placementOf(own), { name: own.name, networks: ['alpha', 'zeta'], hostAddress: '10.0.1.1' });
  });

  it('places berth with --network host on no network, reaching the host on loopback', () => {
    assert.deepEqual(placementOf(container(full, { networkMode: 'host', networks: { host: '' } })), { name: 'n-aaaa', networks: [], hostAddress: '127.0.0.1' });
  });

  it('knows no way to the host when no network of berth\'s has a gateway', () => {
    assert.equal(placementOf(container(full, { networks: { front: '10.0.1.5' } })).hostAddress, null);
  });
});
