// The only module that knows dockerode. berth asks Docker for four things, all GET:
// /_ping, /version, /events and /containers/json (inspect would expose every container's env).
import Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { Codes } from '../errors.js';
import type { DockerAddress } from './address.js';
import type { ContainerSummary } from './container.js';
import { healthFromStatus } from './readiness.js';
import { watchSocketFile } from './socket-watch.js';

/** Newest Engine API this code knows; older daemons are spoken to in their own version. */
const NEWEST_API = '1.47';
const OLDEST_API = '1.24';
const LIST_TIMEOUT_MS = 15_000;
// A daemon that accepts connections but never answers must not hold berth for ever.
const ANSWER_TIMEOUT_MS = 10_000;

export interface DockerClient {
  /** Checks the daemon answers and settles the API version; returns it. */
  connect(): Promise<string>;
  listContainers(): Promise<ContainerSummary[]>;
  /** Opens the events stream for containers and networks; destroy it to stop. */
  openEvents(): Promise<Readable>;
  /** Calls wake when the daemon may be back (its unix socket created again); returns a stop function. */
  watchForDaemon(wake: () => void): () => void;
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
  // dockerode's types omit the options these two take at run time.
  const withOptions = docker as unknown as {
    ping(options: { abortSignal: AbortSignal }): Promise<unknown>;
    version(options: { abortSignal: AbortSignal }): Promise<{ ApiVersion?: string }>;
  };
  // Before negotiation, paths go unversioned (docker-modem adds no prefix).
  const modem = docker.modem as { version?: string };

  return {
    async connect() {
      modem.version = undefined;
      const bounded = () => ({ abortSignal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) });
      await withOptions.ping(bounded());
      const info = await withOptions.version(bounded());
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
      // Bounded until the stream's headers arrive; an open stream may then stay quiet for ever.
      const answered = new AbortController();
      const timer = setTimeout(() => answered.abort(), ANSWER_TIMEOUT_MS);
      try {
        return (await docker.getEvents({ filters, abortSignal: answered.signal })) as unknown as Readable;
      } finally {
        clearTimeout(timer);
      }
    },

    watchForDaemon(wake) {
      return address.kind === 'unix' ? watchSocketFile(address.socketPath, wake) : () => undefined;
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
