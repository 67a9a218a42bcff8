// A second Docker daemon in a network namespace of its own, to join the test engine's swarm as a
// worker node: its own data and exec roots (so its own containerd), socket and docker0, and a veth
// pair to the host on a 10.253.x.0/30 no route uses yet. Swarm's ports (7946, 4789) would clash
// with the engine's in one namespace; in its own, the two nodes talk over the veth pair.
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { copyImageTo, dockerAt } from './docker-at.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export class WorkerDockerd {
  private pid: number | null = null;
  private namespace: string | null = null;
  private veth: string | null = null;

  private constructor(
    readonly dir: string,
    /** The host's end of the veth pair: where the worker reaches the manager. */
    readonly hostAddress: string,
    /** The worker's end. */
    readonly workerAddress: string,
  ) {}

  static async start(): Promise<WorkerDockerd> {
    const routes = (await run('ip', ['-4', 'route'])).stdout;
    const free = Array.from({ length: 60 }, (_, i) => (process.pid + i) % 60).find((x) => !routes.includes(`10.253.${x}.`));
    if (free === undefined) throw new Error('no free 10.253.x.0/30 for the worker node');
    const worker = new WorkerDockerd(await mkdtemp(join(tmpdir(), 'berth-worker-')), `10.253.${free}.1`, `10.253.${free}.2`);
    try {
      await worker.startDaemon();
    } catch (error) {
      await worker.destroy();
      throw error;
    }
    return worker;
  }

  get host(): string {
    return `unix://${join(this.dir, 'docker.sock')}`;
  }

  async docker(...args: string[]): Promise<string> {
    return dockerAt(this.host, ...args);
  }

  /** Copies an image from the test engine (docker save | docker load). */
  async importImage(tag: string): Promise<void> {
    await copyImageTo(this.host, tag, 'to the worker');
  }

  private async startDaemon(): Promise<void> {
    const namespace = `berth-w${process.pid}`;
    const veth = `bw${process.pid % 100_000}`;
    await run('ip', ['netns', 'add', namespace]);
    this.namespace = namespace;
    await run('ip', ['link', 'add', `${veth}h`, 'type', 'veth', 'peer', 'name', `${veth}w`]);
    this.veth = `${veth}h`;
    await run('ip', ['link', 'set', `${veth}w`, 'netns', namespace]);
    await run('ip', ['address', 'add', `${this.hostAddress}/30`, 'dev', `${veth}h`]);
    await run('ip', ['link', 'set', `${veth}h`, 'up']);
    const inside = (...args: string[]) => run('ip', ['netns', 'exec', namespace, 'ip', ...args]);
    await inside('address', 'add', `${this.workerAddress}/30`, 'dev', `${veth}w`);
    await inside('link', 'set', `${veth}w`, 'up');
    await inside('link', 'set', 'lo', 'up');
    const log = openSync(join(this.dir, 'dockerd.log'), 'a');
    try {
      // nsenter, not `ip netns exec`: that remounts /sys, which hides the cgroup mounts dockerd needs.
      const daemon = spawn(
        'nsenter',
        [
          `--net=/var/run/netns/${namespace}`,
          'dockerd',
          '--data-root', join(this.dir, 'data'),
          '--exec-root', join(this.dir, 'exec'),
          '--pidfile', join(this.dir, 'dockerd.pid'),
          '--host', this.host,
        ],
        { stdio: ['ignore', log, log] },
      );
      daemon.unref();
      this.pid = daemon.pid ?? null;
    } finally {
      closeSync(log);
    }
    await waitFor(async () => (await this.docker('version', '--format', '{{.Server.APIVersion}}')) !== '', { what: 'the worker dockerd', timeoutMs: 30_000, intervalMs: 100 });
  }

  /** Leaves the swarm, removes its containers, stops it and removes what it left. */
  async destroy(): Promise<void> {
    if (this.pid !== null) {
      await this.docker('swarm', 'leave', '--force').catch(() => undefined);
      const ids = await this.docker('ps', '-aq').catch(() => '');
      if (ids !== '') await this.docker('rm', '--force', ...ids.split('\n')).catch(() => undefined);
      const pid = this.pid;
      this.pid = null;
      process.kill(pid, 'SIGTERM');
      await waitFor(async () => !alive(pid), { what: 'the worker dockerd to exit', timeoutMs: 20_000, intervalMs: 100 }).catch(() => process.kill(pid, 'SIGKILL'));
    }
    const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((line) => line.split(' ')[1] ?? '');
    for (const mount of mounts.filter((path) => path.startsWith(this.dir + '/')).reverse()) {
      await run('umount', [mount]).catch(() => run('umount', ['--lazy', mount]));
    }
    await rm(this.dir, { recursive: true, force: true });
    if (this.veth !== null) await run('ip', ['link', 'delete', this.veth]).catch(() => undefined);
    this.veth = null;
    if (this.namespace !== null) await run('ip', ['netns', 'delete', this.namespace]);
    this.namespace = null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
