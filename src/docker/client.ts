// The only module that knows dockerode. berth asks Docker for four things, all GET:
// /_ping, /version, /events and /containers/json (inspect would expose every container's env).
import Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { Codes } from '../errors.js';
import type { DockerAddress } from './address.js';
import type { ContainerSummary } from './container.js';
import { healthFromStatus } from './readiness.js';

/** Newest Engine API this code knows; older daemons are spoken to in their own version. */
const NEWEST_API = '1.47';
const OLDEST_API = '1.24';
const LIST_TIMEOUT_MS = 15_000;

export interface DockerClient {
  /** Checks the daemon answers and settles the API version; returns it. */
  connect(): Promise<string>;
  listContainers(): Promise<ContainerSummary[]>;
  /** Opens the events stream for containers and networks; destroy it to stop. */
  openEvents(): Promise<Readable>;
}

export class DockerApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function createDockerClient(address: DockerAddress): DockerClient {
  const docker = new Docker(address.kind === 'unix' ? { socketPath: address.socketPath } : { host: address.host, port: address.port, protocol: address.protocol });
  // Before negotiation, paths go unversioned (docker-modem adds no prefix).
  const modem = docker.modem as { version?: string };

  return {
    async connect() {
      modem.version = undefined;
      await docker.ping();
      const info = (await docker.version()) as { ApiVersion?: string };
      const server = info.ApiVersion ?? OLDEST_API;
      if (compareVersions(server, OLDEST_API) < 0) {
        throw new DockerApiError(Codes.dockerApiTooOld, `the Docker API ${server} is older than ${OLDEST_API}`);
      }
      const chosen = compareVersions(server, NEWEST_API) < 0 ? server : NEWEST_API;
      modem.version = `v${chosen}`;
      return chosen;
    },

    async listContainers() {
      const raw = await docker.listContainers({ all: false, abortSignal: AbortSignal.timeout(LIST_TIMEOUT_MS) } as Docker.ContainerListOptions);
      return raw.map(toSummary);
    },

    async openEvents() {
      const filters = { type: ['container', 'network'] as Array<'container' | 'network'> };
      return (await docker.getEvents({ filters })) as unknown as Readable;
    },
  };
}

function toSummary(raw: Docker.ContainerInfo): ContainerSummary {
  const networks: Record<string, string> = {};
  for (const [name, network] of Object.entries(raw.NetworkSettings?.Networks ?? {})) {
    networks[name] = network.IPAddress ?? '';
  }
  const ports = [...new Set((raw.Ports ?? []).filter((port) => port.Type === 'tcp').map((port) => port.PrivatePort))].sort((a, b) => a - b);
  const health = (raw as { Health?: { Status?: string } }).Health?.Status;
  return {
    id: raw.Id,
    name: (raw.Names?.[0] ?? raw.Id.slice(0, 12)).replace(/^\//, ''),
    labels: raw.Labels ?? {},
    state: raw.State ?? 'unknown',
    status: raw.Status ?? '',
    health: health && health !== 'none' ? health : healthFromStatus(raw.Status ?? ''),
    ports,
    networks,
    networkMode: raw.HostConfig?.NetworkMode ?? 'default',
  };
}

function compareVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}
