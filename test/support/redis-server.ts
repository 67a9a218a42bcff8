// Debian's redis-server on a loopback port of its own, in a folder of its own: started and ended
// by the test, pausable (SIGSTOP) to show a store that stops answering.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { freeLoopbackPort } from './ports.js';
import { waitFor } from './wait.js';

export class RedisServer {
  private child: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly extraArgs: readonly string[],
  ) {}

  /** `args` are redis-server options, e.g. `['--notify-keyspace-events', '']`. */
  static async start(args: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freeLoopbackPort(), await mkdtemp(join(tmpdir(), 'berth-redis-')), args);
    await server.run();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Runs one command on a connection of its own; returns the reply as the client gives it. */
  async command(...words: string[]): Promise<unknown> {
    const client = createClient({ url: this.url, socket: { connectTimeout: 2000, reconnectStrategy: false } });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await client.sendCommand(words);
    } finally {
      client.destroy();
    }
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Ends the server, keeping its folder (and the port) for `restart`. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await once(child, 'exit');
    this.child = null;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.run();
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async run(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no', ...this.extraArgs];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${stderr}`);
        return (await this.command('PING').catch(() => '')) === 'PONG';
      },
      { what: `redis-server on port ${this.port}`, timeoutMs: 10_000, intervalMs: 20 },
    );
  }
}
