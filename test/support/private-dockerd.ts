// A second, private Docker daemon with --live-restore, which a test may stop and start again
// without touching the shared engine: its own data root, exec root (and so its own containerd),
// config file, pidfile and socket in a temp dir, its own bridge, no iptables rules.
// Never `--bridge none`: dockerd then deletes the host's docker0, cutting off the shared engine.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { copyImageTo, dockerAt } from './docker-at.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export class PrivateDockerd {
  private daemon: ChildProcess | null = null;
  private bridge: string | null = null;
  private everAnswered = false;

  private constructor(readonly dir: string) {}

  static async start(): Promise<PrivateDockerd> {
    const dockerd = new PrivateDockerd(await mkdtemp(join(tmpdir(), 'berth-dockerd-')));
    try {
      await writeFile(join(dockerd.dir, 'daemon.json'), '{}');
      dockerd.bridge = await createBridge(`berth-br${process.pid % 100_000}`);
      const sharedBridge = await linkExists('docker0');
      await dockerd.startDaemon();
      if (sharedBridge && !(await linkExists('docker0'))) throw new Error("the private dockerd removed the shared engine's docker0");
    } catch (error) {
      await dockerd.destroy();
      throw error;
    }
    return dockerd;
  }

  get socketPath(): string {
    return join(this.dir, 'docker.sock');
  }

  /** The value for DOCKER_HOST or berth's --docker-host. */
  get host(): string {
    return `unix://${this.socketPath}`;
  }

  /** Runs the docker CLI against this daemon; resolves with trimmed stdout. */
  async docker(...args: string[]): Promise<string> {
    return dockerAt(this.host, ...args);
  }

  /** Copies an image from the shared engine (docker save | docker load). */
  async importImage(tag: string): Promise<void> {
    await copyImageTo(this.host, tag, 'into the private daemon');
  }

  /** SIGTERM, as a service manager stops it; with --live-restore its containers keep running. */
  async stopDaemon(): Promise<void> {
    const daemon = this.daemon;
    this.daemon = null;
    if (!daemon || daemon.exitCode !== null || daemon.signalCode !== null) return;
    const exited = once(daemon, 'exit');
    daemon.kill('SIGTERM');
    const timer = setTimeout(() => daemon.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }

  async startDaemon(): Promise<void> {
    const log = openSync(join(this.dir, 'dockerd.log'), 'a');
    try {
      this.daemon = spawn(
        'dockerd',
        [
          '--config-file', join(this.dir, 'daemon.json'),
          '--data-root', join(this.dir, 'data'),
          '--exec-root', join(this.dir, 'exec'),
          '--pidfile', join(this.dir, 'dockerd.pid'),
          '--host', this.host,
          '--bridge', this.bridge!,
          '--iptables=false',
          '--ip-masq=false',
          '--live-restore',
        ],
        { stdio: ['ignore', log, log] },
      );
    } finally {
      closeSync(log);
    }
    const daemon = this.daemon;
    await waitFor(
      async () => {
        if (daemon.exitCode !== null) throw new Error(`dockerd exited with ${daemon.exitCode}: ${await this.logTail()}`);
        return (await this.docker('version', '--format', '{{.Server.APIVersion}}')) !== '';
      },
      { what: `the private dockerd at ${this.socketPath}`, timeoutMs: 30_000, intervalMs: 100 },
    );
    this.everAnswered = true;
  }

  /** Removes its containers, stops it, and removes everything it left in its folder. */
  async destroy(): Promise<void> {
    // Stopped with live-restore, its containers still run: it must be up to remove them.
    if (!this.daemon && this.everAnswered) await this.startDaemon().catch(() => undefined);
    if (this.daemon) {
      const ids = await this.docker('ps', '-aq').catch(() => '');
      if (ids !== '') await this.docker('rm', '--force', ...ids.split('\n')).catch(() => undefined);
      await this.stopDaemon();
    }
    // dockerd leaves its data root bind-mounted and a network namespace mounted under the exec root.
    const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((line) => line.split(' ')[1] ?? '');
    for (const mount of mounts.filter((path) => path.startsWith(this.dir + '/')).reverse()) {
      await run('umount', [mount]).catch(() => run('umount', ['--lazy', mount]));
    }
    await rm(this.dir, { recursive: true, force: true });
    if (this.bridge !== null) await run('ip', ['link', 'delete', this.bridge]);
    this.bridge = null;
  }

  private async logTail(): Promise<string> {
    const text = await readFile(join(this.dir, 'dockerd.log'), 'utf8').catch(() => '');
    return text.split('\n').slice(-5).join('\n');
  }
}

/** A bridge for the daemon's default network, on a 10.251.x.0/24 no route uses yet. */
async function createBridge(name: string): Promise<string> {
  const routes = (await run('ip', ['-4', 'route'])).stdout;
  const free = Array.from({ length: 250 }, (_, i) => (process.pid + i) % 250).find((x) => !routes.includes(`10.251.${x}.`));
  if (free === undefined) throw new Error('no free 10.251.x.0/24 for the private daemon\'s bridge');
  await run('ip', ['link', 'add', name, 'type', 'bridge']);
  await run('ip', ['address', 'add', `10.251.${free}.1/24`, 'dev', name]);
  await run('ip', ['link', 'set', name, 'up']);
  return name;
}

function linkExists(name: string): Promise<boolean> {
  return run('ip', ['link', 'show', name]).then(
    () => true,
    () => false,
  );
}
