// Debian's etcd on loopback ports of its own, with its data in a folder of its own: started and
// ended by the test, restartable with its data, and compactable to break a watch.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildServer } from './child-server.js';
import { freeLoopbackPort } from './ports.js';

export class EtcdServer extends ChildServer {
  private constructor(
    readonly port: number,
    private readonly peerPort: number,
    dir: string,
  ) {
    super(dir);
  }

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

  protected get what(): string {
    return `etcd on port ${this.port}`;
  }

  protected commandLine() {
    const client = this.url;
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
    return { program: 'etcd', args };
  }

  protected async answers(): Promise<boolean> {
    const health = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1000) }).catch(() => null);
    return health?.ok === true;
  }
}

export const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
