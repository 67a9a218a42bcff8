// What berth reads of the Engine API's swarm answers (/services, /tasks, /networks, /info), as
// plain data. Pure: raw JSON in, summaries out; anything missing or odd reads as absent, never throws.

/** The part of a `GET /services` entry that routing needs. */
export interface ServiceSummary {
  readonly id: string;
  readonly name: string;
  /** Spec.Labels: a stack file's `deploy.labels`. */
  readonly labels: Readonly<Record<string, string>>;
  readonly mode: 'replicated' | 'global' | 'other';
  /** Desired replicas; null for global services. */
  readonly replicas: number | null;
  /** `vip` (the default) or `dnsrr`. */
  readonly endpointMode: string;
  /** Network id -> the service's virtual IP on it, without the prefix length. */
  readonly virtualIps: Readonly<Record<string, string>>;
  /** Target ports of the published TCP ports, ascending and unique (services expose no others). */
  readonly ports: readonly number[];
}

/** The part of a `GET /tasks` entry that routing needs. */
export interface TaskSummary {
  readonly id: string;
  readonly serviceId: string;
  /** Replica number; null for a global service's tasks. */
  readonly slot: number | null;
  readonly nodeId: string;
  /** Status.State: `new` ... `starting`, `running`, `complete`, `failed`, `shutdown`, ... */
  readonly state: string;
  readonly desiredState: string;
  readonly containerId: string | null;
  /** Network name -> the task's IPv4 address on it. */
  readonly networks: Readonly<Record<string, string>>;
}

export interface NetworkSummary {
  readonly id: string;
  readonly name: string;
  /** The routing mesh's network: every task that publishes a port is on it, so it says nothing about reach. */
  readonly ingress: boolean;
}

/** Where the engine stands in a swarm, from `GET /info`. */
export interface SwarmRole {
  /** LocalNodeState: `inactive`, `pending`, `active`, `error`, `locked`. */
  readonly state: string;
  /** ControlAvailable: a manager sees services and tasks; a worker does not. */
  readonly manager: boolean;
  readonly nodeId: string | null;
}

type Raw = Record<string, unknown>;

const object = (value: unknown): Raw => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Raw) : {});
const array = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

function labelsOf(value: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, label] of Object.entries(object(value))) if (typeof label === 'string') labels[key] = label;
  return labels;
}

/** `10.0.1.5/24` -> `10.0.1.5`. */
const withoutPrefix = (address: string): string => address.split('/')[0] ?? '';

export function serviceFromEngine(raw: unknown): ServiceSummary {
  const service = object(raw);
  const spec = object(service['Spec']);
  const mode = object(spec['Mode']);
  const replicated = object(mode['Replicated']);
  const endpoint = object(service['Endpoint']);
  const virtualIps: Record<string, string> = {};
  for (const vip of array(endpoint['VirtualIPs'])) {
    const network = text(object(vip)['NetworkID']);
    const address = withoutPrefix(text(object(vip)['Addr']));
    if (network !== '' && address !== '') virtualIps[network] = address;
  }
  const published = array(endpoint['Ports']).map(object).filter((port) => text(port['Protocol']) !== 'udp' && text(port['Protocol']) !== 'sctp');
  const ports = [...new Set(published.map((port) => port['TargetPort']).filter((port): port is number => typeof port === 'number'))].sort((a, b) => a - b);
  return {
    id: text(service['ID']),
    name: text(spec['Name']) || text(service['ID']).slice(0, 12),
    labels: labelsOf(spec['Labels']),
    mode: 'Replicated' in mode ? 'replicated' : 'Global' in mode ? 'global' : 'other',
    replicas: typeof replicated['Replicas'] === 'number' ? replicated['Replicas'] : null,
    endpointMode: text(object(endpoint['Spec'])['Mode']) || text(object(spec['EndpointSpec'])['Mode']) || 'vip',
    virtualIps,
    ports,
  };
}

export function taskFromEngine(raw: unknown): TaskSummary {
  const task = object(raw);
  const status = object(task['Status']);
  const containerId = text(object(status['ContainerStatus'])['ContainerID']);
  const networks: Record<string, string> = {};
  for (const attachment of array(task['NetworksAttachments'])) {
    const name = text(object(object(object(attachment)['Network'])['Spec'])['Name']);
    const address = array(object(attachment)['Addresses']).map((entry) => withoutPrefix(text(entry))).find((entry) => entry !== '' && !entry.includes(':'));
    if (name !== '' && address !== undefined) networks[name] = address;
  }
  return {
    id: text(task['ID']),
    serviceId: text(task['ServiceID']),
    slot: typeof task['Slot'] === 'number' && task['Slot'] > 0 ? task['Slot'] : null,
    nodeId: text(task['NodeID']),
    state: text(status['State']) || 'unknown',
    desiredState: text(task['DesiredState']) || 'unknown',
    containerId: containerId === '' ? null : containerId,
    networks,
  };
}

export function networkFromEngine(raw: unknown): NetworkSummary {
  const network = object(raw);
  return { id: text(network['Id']) || text(network['ID']), name: text(network['Name']), ingress: network['Ingress'] === true };
}

export function roleFromInfo(raw: unknown): SwarmRole {
  const swarm = object(object(raw)['Swarm']);
  const nodeId = text(swarm['NodeID']);
  return { state: text(swarm['LocalNodeState']) || 'inactive', manager: swarm['ControlAvailable'] === true, nodeId: nodeId === '' ? null : nodeId };
}

/** The `Swarm` header of `GET /_ping`: `inactive`, `pending`, `error`, `locked`, `active/worker` or `active/manager`. */
export function roleFromPingHeader(header: string): SwarmRole {
  const [state = 'inactive', role] = header.trim().toLowerCase().split('/');
  return { state, manager: state === 'active' && role === 'manager', nodeId: null };
}

/** A task's name as `docker service ps` shows it: `<service>.<slot>`, or `<service>.<node>` for global services. */
export function taskName(service: ServiceSummary, task: TaskSummary): string {
  return `${service.name}.${task.slot ?? task.nodeId.slice(0, 12)}`;
}
