import { execFile } from 'node:child_process';

// Re-exported so that a test needs one import for containers, polling and requests.
export { waitFor } from './wait.js';
export { httpGet } from './http.js';

/** Label on every container and network the tests create, so leftovers can be found and removed. */
export const TEST_LABEL = 'berth-test=1';

const containers = new Set<string>();
const networks = new Set<string>();
let counter = 0;

/** A failed docker CLI call; stderr is kept apart so callers can tell "no such ..." from real trouble. */
export class DockerError extends Error {
  constructor(
    args: string[],
    readonly stderr: string,
  ) {
    super(`docker ${args.join(' ')} failed: ${stderr}`);
  }
}

/** Runs the docker CLI and resolves with its trimmed stdout; rejects with a DockerError. */
export function docker(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new DockerError(args, stderr.trim() || err.message));
      else resolve(stdout.trim());
    });
  });
}

/** A name no other test or test process uses, valid as a container name and as a DNS label. */
export function uniqueName(prefix: string): string {
  const base = `berth-t-${process.pid}-${++counter}-`;
  const suffix = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 50 - base.length);
  return (base + suffix).replace(/-+$/, '');
}

export interface RunOptions {
  image: string;
  /** Container name, also used as its hostname; default uniqueName('c'). */
  name?: string;
  labels?: Record<string, string>;
  cmd?: string[];
  network?: string;
  env?: Record<string, string>;
  healthCmd?: string;
  /** Default 1s, so health settles within a test's patience. */
  healthInterval?: string;
  /** Passed to `docker run` before the image, for anything not covered above. */
  extraArgs?: string[];
}

export interface Container {
  id: string;
  name: string;
}

/** `docker run -d`; the container is labelled berth-test=1 and removed by cleanup(). */
export async function runContainer(opts: RunOptions): Promise<Container> {
  const name = opts.name ?? uniqueName('c');
  const args = ['run', '-d', '--name', name, '--hostname', name, '--label', TEST_LABEL];
  for (const [key, value] of Object.entries(opts.labels ?? {})) args.push('--label', `${key}=${value}`);
  for (const [key, value] of Object.entries(opts.env ?? {})) args.push('--env', `${key}=${value}`);
  if (opts.network !== undefined) args.push('--network', opts.network);
  if (opts.healthCmd !== undefined) {
    args.push('--health-cmd', opts.healthCmd, '--health-interval', opts.healthInterval ?? '1s');
  }
  args.push(...(opts.extraArgs ?? []), opts.image, ...(opts.cmd ?? []));
  // Registered before the run: a run that fails half way can still leave a created container.
  containers.add(name);
  const id = await docker(...args);
  return { id, name };
}

export interface HttpdOptions extends Omit<RunOptions, 'cmd'> {
  /** Port httpd listens on inside the container; default 80. */
  port?: number;
  /** Content of /www/index.html; default the container name, so each reply says who sent it. */
  body?: string;
  /** More files to serve, by path under /www ("api/index.html" answers /api/). */
  files?: Record<string, string>;
}

/** A busybox httpd container serving index.html and the given files. */
export function runHttpd(opts: HttpdOptions): Promise<Container> {
  const name = opts.name ?? uniqueName('httpd');
  const files = { 'index.html': opts.body ?? name, ...opts.files };
  const writes = Object.entries(files).map(([path, content]) => {
    const target = `/www/${path.replace(/^\/+/, '')}`;
    if (target.split('/').includes('..')) throw new Error(`httpd file outside /www: ${path}`);
    return `mkdir -p ${shellQuote(target.slice(0, target.lastIndexOf('/')))} && printf %s ${shellQuote(content)} > ${shellQuote(target)}`;
  });
  const script = [...writes, `exec httpd -f -p ${opts.port ?? 80} -h /www`].join(' && ');
  // --init: httpd as PID 1 would ignore SIGTERM and make every `docker stop` wait 10 s.
  return runContainer({ ...opts, name, cmd: ['sh', '-c', script], extraArgs: ['--init', ...(opts.extraArgs ?? [])] });
}

/** The container's IP on the given network, or on its only network. */
export async function containerIp(name: string, network?: string): Promise<string> {
  const json = await docker('inspect', '-f', '{{json .NetworkSettings.Networks}}', name);
  const attached = JSON.parse(json) as Record<string, { IPAddress: string }>;
  const names = Object.keys(attached);
  const chosen = network ?? (names.length === 1 ? names[0] : undefined);
  const ip = chosen === undefined ? undefined : attached[chosen]?.IPAddress;
  if (!ip) throw new Error(`no IP for ${name} on ${network ?? 'its only network'} (networks: ${names.join(', ') || 'none'})`);
  return ip;
}

/** A new bridge network, labelled berth-test=1 and removed by cleanup(). */
export async function createNetwork(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await docker('network', 'create', '--driver', 'bridge', '--label', TEST_LABEL, name);
  networks.add(name);
  return name;
}

/** Force-removes every container and network this process created; safe to call more than once. */
export async function cleanup(): Promise<void> {
  const names = [...containers];
  containers.clear();
  await Promise.all(names.map((name) => ignoreMissing(docker('rm', '--force', '--volumes', name))));
  const nets = [...networks];
  networks.clear();
  await Promise.all(nets.map((net) => ignoreMissing(docker('network', 'rm', net))));
}

async function ignoreMissing(removal: Promise<string>): Promise<void> {
  try {
    await removal;
  } catch (err) {
    if (!(err instanceof DockerError && /no such|not found/i.test(err.stderr))) throw err;
  }
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
