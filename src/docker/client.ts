// The only module that knows dockerode. berth asks Docker for four things, all GET:
// /_ping, /version, /events and /containers/json (inspect would expose every container's env);
// with swarm on, also /info, /services, /tasks and /networks, GET as well.
import Docker from 'dockerode';
import { request as httpRequest } from 'node:http';
import type { Readable } from 'node:stream';
import { Codes } from '../errors.js';
import type { DockerAddress } from './address.js';
import type { ContainerSummary } from './container.js';
import { parseEvent, type DockerEvent } from './events.js';
import { createLineSplitter } from './line-splitter.js';
import { healthFromStatus } from './readiness.js';
import { watchSocketFile } from './socket-watch.js';
import { networkFromEngine, roleFromInfo, roleFromPingHeader, serviceFromEngine, taskFromEngine, type NetworkSummary, type ServiceSummary, type SwarmRole, type TaskSummary } from '../swarm/engine.js';

/** Newest Engine API this code knows; older daemons are spoken to in their own version. */
const NEWEST_API = '1.47';
const OLDEST_API = '1.24';
const LIST_TIMEOUT_MS = 15_000;
// A daemon that accepts connections but never answers must not hold berth for ever.
const ANSWER_TIMEOUT_MS = 10_000;

/** Which running containers to list: those with every label filter (`key` or `key=value`), or one id. */
export interface ListFilter {
  readonly labels?: readonly string[];
  readonly id?: string;
}

export interface EventHandlers {
  onEvent(event: DockerEvent): void;
  /** A line that is no event (cut to 200 characters), or the size of one too long to keep. */
  onBadLine(bad: { line: string } | { bytes: number }): void;
}

/** An open events stream; events reach the handlers given to openEvents. */
export interface EventStream {
  /** Resolves with why the stream ended: it ended, failed or was closed. */
  readonly ended: Promise<string>;
  close(): void;
}

export interface DockerClient {
  /** Checks the daemon answers and settles the API version; returns it. */
  connect(): Promise<string>;
  listContainers(filter?: ListFilter): Promise<ContainerSummary[]>;
  /** A container's environment (GET /containers/{id}/json): asked only with --compat nginx-proxy. */
  inspectEnv?(id: string): Promise<Record<string, string>>;
  /** Opens the events stream for containers and networks, or for the given event types. */
  openEvents(handlers: EventHandlers, types?: readonly EventType[]): Promise<EventStream>;
  /** Where the engine stands in a swarm (GET /info). */
  swarmRole?(): Promise<SwarmRole>;
  /** Swarm services, tasks whose desired state is running, and networks: managers only. */
  listServices?(): Promise<ServiceSummary[]>;
  listTasks?(): Promise<TaskSummary[]>;
  listNetworks?(): Promise<NetworkSummary[]>;
  /** Calls wake when the daemon may be back (its unix socket created again); returns a stop function. */
  watchForDaemon(wake: () => void): () => void;
}

export type EventType = 'container' | 'network' | 'service';

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
  // dockerode's types omit the options these take at run time.
  const withOptions = docker as unknown as {
    ping(options: { abortSignal: AbortSignal }): Promise<unknown>;
    version(options: { abortSignal: AbortSignal }): Promise<{ ApiVersion?: string }>;
    info(options: { abortSignal: AbortSignal }): Promise<unknown>;
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

    async listContainers(filter = {}) {
      const filters: Record<string, string[]> = {};
      if (filter.labels && filter.labels.length > 0) filters['label'] = [...filter.labels];
      if (filter.id !== undefined) filters['id'] = [filter.id];
      const raw = await docker.listContainers({ all: false, filters, abortSignal: AbortSignal.timeout(LIST_TIMEOUT_MS) } as Docker.ContainerListOptions);
      return raw.map(toSummary);
    },

    async inspectEnv(id) {
      const info = await docker.getContainer(id).inspect({ abortSignal: AbortSignal.timeout(LIST_TIMEOUT_MS) } as Docker.ContainerInspectOptions);
      const env: Record<string, string> = {};
      for (const entry of info.Config?.Env ?? []) {
        const equals = entry.indexOf('=');
        if (equals > 0) env[entry.slice(0, equals)] = entry.slice(equals + 1);
      }
      return env;
    },

    async swarmRole() {
      // The Swarm header of /_ping says it without another endpoint (a socket proxy allows /_ping);
      // engines before API 1.40 do not send it, and /info says it for them.
      const header = await swarmHeader(address);
      if (header !== null) return roleFromPingHeader(header);
      return roleFromInfo(await withOptions.info({ abortSignal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) }));
    },

    async listServices() {
      const raw: unknown[] = await docker.listServices({ abortSignal: AbortSignal.timeout(LIST_TIMEOUT_MS) } as Docker.ServiceListOptions);
      return raw.map(serviceFromEngine);
    },

    async listTasks() {
      // A task whose desired state is shutdown is on its way out: it must leave its pool now, not when it has stopped.
      const raw: unknown[] = await docker.listTasks({ filters: { 'desired-state': ['running'] }, abortSignal: AbortSignal.timeout(LIST_TIMEOUT_MS) });
      return raw.map(taskFromEngine);
    },

    async listNetworks() {
      const raw: unknown[] = await docker.listNetworks({ abortSignal: AbortSignal.timeout(LIST_TIMEOUT_MS) } as Docker.NetworkListOptions);
      return raw.map(networkFromEngine);
    },

    async openEvents(handlers, types = ['container', 'network']) {
      // No label filter here: network events carry the network's attributes, not the container's labels.
      const filters = { type: [...types] as Array<'container' | 'network'> };
      // Bounded until the stream's headers arrive; an open stream may then stay quiet for ever.
      const answered = new AbortController();
      const timer = setTimeout(() => answered.abort(), ANSWER_TIMEOUT_MS);
      let stream: Readable;
      try {
        stream = (await docker.getEvents({ filters, abortSignal: answered.signal })) as unknown as Readable;
      } finally {
        clearTimeout(timer);
      }
      return followEvents(stream, handlers);
    },

    watchForDaemon(wake) {
      return address.kind === 'unix' ? watchSocketFile(address.socketPath, wake) : () => undefined;
    },
  };
}

/** The `Swarm` header of `GET /_ping` (`inactive`, `active/manager`, ...); null when the engine sends none or TLS is in the way. */
function swarmHeader(address: DockerAddress): Promise<string | null> {
  // dockerode hides response headers; TLS settings live in dockerode alone, so /info answers over https.
  if (address.kind === 'tcp' && address.protocol === 'https') return Promise.resolve(null);
  const target = address.kind === 'unix' ? { socketPath: address.socketPath } : { host: address.host, port: address.port };
  return new Promise((resolve, reject) => {
    const request = httpRequest({ ...target, path: '/_ping', method: 'GET', signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) }, (response) => {
      response.resume();
      const header = response.headers['swarm'];
      if (response.statusCode !== 200) reject(new Error(`GET /_ping answered ${response.statusCode}`));
      else resolve(typeof header === 'string' && header !== '' ? header : null);
    });
    request.on('error', reject);
    request.end();
  });
}

/** Typed events from the raw stream: newline framing on bytes, then one JSON event per line. */
export function followEvents(stream: Readable, handlers: EventHandlers): EventStream {
  const ended = new Promise<string>((resolve) => {
    stream.once('end', () => resolve('ended'));
    stream.once('error', (error: Error) => resolve(`failed: ${error.message}`));
    stream.once('close', () => resolve('closed'));
  });
  const splitter = createLineSplitter(
    (line) => {
      const event = parseEvent(line);
      if (event) handlers.onEvent(event);
      else handlers.onBadLine({ line: line.slice(0, 200) });
    },
    (bytes) => handlers.onBadLine({ bytes }),
  );
  stream.on('data', (chunk: Buffer) => splitter.push(chunk));
  return { ended, close: () => stream.destroy() };
}

function toSummary(raw: Docker.ContainerInfo): ContainerSummary {
  const networks: Record<string, string> = {};
  const gateways: Record<string, string> = {};
  for (const [name, network] of Object.entries(raw.NetworkSettings?.Networks ?? {})) {
    networks[name] = network.IPAddress ?? '';
    gateways[name] = network.Gateway ?? '';
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
    gateways,
    networkMode: raw.HostConfig?.NetworkMode ?? 'default',
  };
}

function compareVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}
