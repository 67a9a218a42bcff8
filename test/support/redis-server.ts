// Debian's redis-server on a loopback port of its own, in a folder of its own: started and ended
// by the test, pausable (SIGSTOP) to show a store that stops answering.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { ChildServer } from './child-server.js';
import { freeLoopbackPort } from './ports.js';

export class RedisServer extends ChildServer {
  private constructor(
    readonly port: number,
    dir: string,
    private readonly extraArgs: readonly string[],
  ) {
    super(dir);
  }

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

  protected get what(): string {
    return `redis-server on port ${this.port}`;
  }

  protected commandLine() {
    return { program: 'redis-server', args: ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no', ...this.extraArgs] };
  }

  protected async answers(): Promise<boolean> {
    return (await this.command('PING').catch(() => '')) === 'PONG';
  }
}
