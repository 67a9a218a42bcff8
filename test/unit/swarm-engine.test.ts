import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { networkFromEngine, roleFromInfo, serviceFromEngine, taskFromEngine } from '../../src/swarm/engine.js';

// Shapes as Docker 20.10 answers them (trimmed), so the readers meet the real field names.
const TASK = {
  ID: 'a7mmzvfn5xpvdm3ye8g9bkh1i',
  ServiceID: 'sp9za1wu33qrylp1omul563ed',
  Slot: 2,
  NodeID: 'tgumoqowr2aljf76iyfj8ig2t',
  Status: { State: 'running', Message: 'started', ContainerStatus: { ContainerID: '306fe59491c6', PID: 16790, ExitCode: 0 } },
  DesiredState: 'running',
  NetworksAttachments: [
    { Network: { ID: 'bf2z8gkem5xk', Spec: { Name: 'probe-ov' } }, Addresses: ['10.0.1.3/24'] },
    { Network: { ID: 'q15h5be012fm', Spec: { Name: 'ingress' } }, Addresses: ['fd00::3/64', '10.0.0.4/24'] },
  ],
};

const SERVICE = {
  ID: 'sp9za1wu33qrylp1omul563ed',
  Spec: { Name: 'web', Labels: { 'berth.host': 'web.test', odd: 3 }, Mode: { Replicated: { Replicas: 3 } }, EndpointSpec: { Mode: 'vip' } },
  Endpoint: {
    Spec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 18099 }] },
    Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 18099 }, { Protocol: 'udp', TargetPort: 53, PublishedPort: 53 }],
    VirtualIPs: [{ NetworkID: 'bf2z8gkem5xk', Addr: '10.0.1.2/24' }],
  },
};

describe('swarm engine answers', () => {
  it('reads a task: its state, desired state, slot, container and IPv4 address per network name', () => {
    assert.deepEqual(taskFromEngine(TASK), {
      id: 'a7mmzvfn5xpvdm3ye8g9bkh1i',
      serviceId: 'sp9za1wu33qrylp1omul563ed',
      slot: 2,
      nodeId: 'tgumoqowr2aljf76iyfj8ig2t',
      state: 'running',
      desiredState: 'running',
      containerId: '306fe59491c6',
      networks: { 'probe-ov': '10.0.1.3', ingress: '10.0.0.4' },
    });
  });

  it('reads a service: string labels, replicas, virtual IPs by network id and published TCP target ports', () => {
    assert.deepEqual(serviceFromEngine(SERVICE), {
      id: 'sp9za1wu33qrylp1omul563ed',
      name: 'web',
      labels: { 'berth.host': 'web.test' },
      mode: 'replicated',
      replicas: 3,
      endpointMode: 'vip',
      virtualIps: { bf2z8gkem5xk: '10.0.1.2' },
      ports: [80],
    });
    assert.equal(serviceFromEngine({ ID: 'g', Spec: { Name: 'g', Mode: { Global: {} } } }).replicas, null);
  });

  it('reads anything odd as absent instead of throwing', () => {
    for (const raw of [null, 7, 'x', [], { Spec: 5, Endpoint: { VirtualIPs: 'no' } }]) {
      assert.equal(serviceFromEngine(raw).ports.length, 0);
      assert.deepEqual(taskFromEngine(raw).networks, {});
    }
    assert.equal(taskFromEngine({ Slot: 0 }).slot, null);
  });

  it('reads the role from /info: a manager, a worker, no swarm', () => {
    assert.deepEqual(roleFromInfo({ Swarm: { NodeID: 'n1', LocalNodeState: 'active', ControlAvailable: true } }), { state: 'active', manager: true, nodeId: 'n1' });
    assert.deepEqual(roleFromInfo({ Swarm: { NodeID: 'n2', LocalNodeState: 'active', ControlAvailable: false } }), { state: 'active', manager: false, nodeId: 'n2' });
    assert.deepEqual(roleFromInfo({ Swarm: { NodeID: '', LocalNodeState: 'inactive', ControlAvailable: false } }), { state: 'inactive', manager: false, nodeId: null });
    assert.deepEqual(roleFromInfo({}), { state: 'inactive', manager: false, nodeId: null });
  });

  it('reads a network from /networks', () => {
    assert.deepEqual(networkFromEngine({ Id: 'bf2z', Name: 'edge', Driver: 'overlay' }), { id: 'bf2z', name: 'edge', ingress: false });
    assert.deepEqual(networkFromEngine({ Id: 'q15h', Name: 'ingress', Driver: 'overlay', Ingress: true }), { id: 'q15h', name: 'ingress', ingress: true });
  });
});
