// A synthetic Engine API answer of a large swarm, in the shapes GET /services, /tasks and /networks
// give (Docker 20.10): for the scale figures one machine's single-node swarm cannot hold.

export interface SwarmAnswer {
  readonly services: string;
  readonly tasks: string;
  readonly networks: string;
}

/** `services` services of `tasksEach` running tasks each, all on one overlay network named `edge`. */
export function swarmAnswer(services: number, tasksEach: number): SwarmAnswer {
  const network = { Id: 'net-edge', Name: 'edge', Driver: 'overlay', Scope: 'swarm', Attachable: true };
  const serviceList = Array.from({ length: services }, (_, s) => ({
    ID: `svc${s}`,
    Version: { Index: 10 + s },
    Spec: {
      Name: `app${s}`,
      Labels: { 'berth.host': `app${s}.swarm.test`, 'berth.port': '8080', 'com.docker.stack.namespace': 'bench' },
      TaskTemplate: { ContainerSpec: { Image: 'app:1' }, Networks: [{ Target: 'net-edge' }] },
      Mode: { Replicated: { Replicas: tasksEach } },
      EndpointSpec: { Mode: 'vip' },
    },
    Endpoint: { Spec: { Mode: 'vip' }, VirtualIPs: [{ NetworkID: 'net-edge', Addr: `10.${(s >> 8) & 255}.${s & 255}.2/16` }] },
  }));
  const taskList = serviceList.flatMap((service, s) =>
    Array.from({ length: tasksEach }, (_, t) => {
      const n = s * tasksEach + t;
      return {
        ID: `task${n}`,
        ServiceID: service.ID,
        Slot: t + 1,
        NodeID: `node${n % 7}`,
        Status: { Timestamp: '2026-01-01T00:00:00Z', State: 'running', Message: 'started', ContainerStatus: { ContainerID: `c${n}`, PID: 100 + n, ExitCode: 0 } },
        DesiredState: 'running',
        NetworksAttachments: [{ Network: { ID: 'net-edge', Spec: { Name: 'edge', Labels: {}, DriverConfiguration: { Name: 'overlay' }, Attachable: true, Scope: 'swarm' } }, Addresses: [`10.1.${(n >> 8) & 255}.${n & 255}/16`] }],
      };
    }),
  );
  return { services: JSON.stringify(serviceList), tasks: JSON.stringify(taskList), networks: JSON.stringify([network]) };
}
