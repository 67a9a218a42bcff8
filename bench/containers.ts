// The benchmarks' containers: on a network of their own, with route labels under a prefix of their
// own (so that other berths on this engine route none of them, and the benchmark's berth routes
// nothing else), all carrying a run label by which they are removed at the end.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runContainer, runHttpd, uniqueName, type Container } from '../test/support/docker.js';
import { busyboxImage, nodeImage } from '../test/support/images.js';
import { repoRoot } from '../test/support/repo.js';
import { isInterrupted, onCleanup } from './cleanup.js';
import { engine, filters } from './engine.js';

const LABEL_PREFIX = 'berthbench';
const RUN_LABEL_KEY = 'berth-bench';

export interface BenchDocker {
  readonly image: string;
  readonly network: string;
  /** `berth-bench=<run id>`, on every container and network made here. */
  readonly runLabel: string;
  /** Flags for a Docker-driven berth that reads these containers' labels only. */
  readonly berthArgs: readonly string[];
}

let setup: Promise<BenchDocker> | undefined;
/** Containers being made right now: the cleanup waits for them, or it could miss them. */
const making = new Set<Promise<unknown>>();

function made<T>(creation: () => Promise<T>): Promise<T> {
  if (isInterrupted()) return Promise.reject(new Error('interrupted'));
  const promise = creation();
  making.add(promise);
  void promise.finally(() => making.delete(promise)).catch(() => undefined);
  return promise;
}

/** The engine (started if need be), the busybox image and a network; made once until the next cleanup. */
export function benchDocker(): Promise<BenchDocker> {
  setup ??= prepare();
  return setup;
}

async function prepare(): Promise<BenchDocker> {
  await promisify(execFile)('bash', [join(repoRoot(), 'scripts', 'ensure-docker.sh')]);
  const runId = `${process.pid}-${Date.now().toString(36)}`;
  const runLabel = `${RUN_LABEL_KEY}=${runId}`;
  const network = `berth-bench-${runId}`;
  onCleanup(async () => {
    setup = undefined;
    await removeRun(runLabel);
  });
  await engine('POST', '/networks/create', { Name: network, Driver: 'bridge', Labels: { [RUN_LABEL_KEY]: runId } });
  return { image: await busyboxImage(), network, runLabel, berthArgs: ['--label-prefix', LABEL_PREFIX, '--access-log=false'] };
}

/** Labels that route `host` to the container's port; `berth.enable=false` keeps default berths away. */
export function routeLabels(docker: BenchDocker, host: string, port = 80): Record<string, string> {
  const [key, value] = docker.runLabel.split('=') as [string, string];
  return { [`${LABEL_PREFIX}.host`]: host, [`${LABEL_PREFIX}.port`]: String(port), 'berth.enable': 'false', [key]: value };
}

/** The servers a replica can run; the two behave differently when a container stops. */
export const REPLICAS = {
  httpd: 'busybox httpd (a new connection per request, listen backlog 9)',
  node: 'Node http server (keep-alive, exits at once on SIGTERM)',
} as const;

export type ReplicaKind = keyof typeof REPLICAS;

/** A replica serving `host`, started with `docker run` (the CLI, as users do). */
export async function runReplica(docker: BenchDocker, host: string, kind: ReplicaKind = 'httpd'): Promise<Container> {
  if (kind === 'httpd') return made(() => runHttpd({ image: docker.image, network: docker.network, labels: routeLabels(docker, host) }));
  const image = await nodeImage();
  // test/fixtures/ws-echo.mjs on port 8080; --init passes SIGTERM on to node.
  return made(() => runContainer({ image, network: docker.network, labels: routeLabels(docker, host, 8080), extraArgs: ['--init'] }));
}

export function benchHost(prefix: string): string {
  return `${uniqueName(prefix)}.test`;
}

/**
 * Creates and starts a container that only sleeps (it routes, but serves nothing), through the
 * API; `sleep 3600` ends by itself, so should removal fail nothing runs on past the hour.
 */
export function startSleeper(docker: BenchDocker, options: { name: string; host: string; port?: number; networkMode?: string }): Promise<string> {
  return made(async () => {
    const { Id } = await engine<{ Id: string }>('POST', `/containers/create?name=${encodeURIComponent(options.name)}`, {
      Image: docker.image,
      Cmd: ['sleep', '3600'],
      Labels: routeLabels(docker, options.host, options.port),
      HostConfig: { NetworkMode: options.networkMode ?? docker.network },
    });
    await engine('POST', `/containers/${Id}/start`);
    return Id;
  });
}

export async function removeContainer(id: string): Promise<void> {
  await engine('DELETE', `/containers/${id}?force=true`);
}

/** Runs `task` over `items`, `parallel` at a time. */
export async function inParallel<T>(items: readonly T[], parallel: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

/** Every container and network of the run, found by its label (also those whose creation was cut short). */
async function removeRun(runLabel: string): Promise<void> {
  await Promise.allSettled([...making]);
  for (let pass = 0; pass < 3; pass++) {
    const left = await engine<Array<{ Id: string }>>('GET', `/containers/json?all=1&filters=${filters({ label: [runLabel] })}`);
    if (left.length === 0) break;
    await inParallel(left, 8, (container) => removeContainer(container.Id).catch(() => undefined));
  }
  const networks = await engine<Array<{ Id: string }>>('GET', `/networks?filters=${filters({ label: [runLabel] })}`);
  for (const network of networks) await engine('DELETE', `/networks/${network.Id}`);
}
