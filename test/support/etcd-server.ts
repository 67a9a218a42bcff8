// Debian's etcd on loopback ports of its own, with its data in a folder of its own: started and
// ended by the test, restartable with its data, and compactable to break a watch.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from './ports.js';
import { waitFor } from './wait.js';

export class EtcdServer {
  private child: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    private readonly peerPort: number,
    readonly dir: string,
  ) {}

  static async start(): Promise<EtcdServer> {
    const server = new EtcdServer(await freeLoopbackPort(), await freeLoopbackPort(), await mkdtemp(join(tmpdir(), 'berth-etcd-')));
    await server.run();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A call to the v3 JSON gateway: keys and values are base64 there, as the API wants. */
  async call(path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.url}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`etcd ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  }

  async put(key: string, value: string): Promise<number> {
    const reply = await this.call('/v3/kv/put', { key: b64(key), value: b64(value) });
    return Number((reply.header as { revision: string }).revision);
  }

  async delete(key: string): Promise<void> {
    await this.call('/v3/kv/deleterange', { key: b64(key) });
  }

  /** Compacts history up to the current revision, so a watch from before it is cancelled. */
  async compact(): Promise<void> {
    const reply = await this.call('/v3/kv/range', { key: b64('\0'), limit: 1 });
    await this.call('/v3/kv/compaction', { revision: (reply.header as { revision: string }).revision, physical: true });
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Ends the process, keeping its data for `restart`. */
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
    const client = `http://127.0.0.1:${this.port}`;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const args = [
      '--name', 'berth-test',
      '--data-dir', join(this.dir, 'data'),
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `berth-test=${peer}`,
      '--log-level', 'error',
    ];
    const child = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`etcd exited (${child.exitCode}): ${stderr}`);
        const health = await fetch(`${client}/health`, { signal: AbortSignal.timeout(1000) }).catch(() => null);
        return health?.ok === true;
      },
      { what: `etcd on port ${this.port}`, timeoutMs: 20_000, intervalMs: 50 },
    );
  }
}

export const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
