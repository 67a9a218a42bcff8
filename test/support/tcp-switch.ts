// A loopback TCP forwarder that picks its target per connection: Pebble validates at one port, and
// the test sends each validation to the replica of its choice. It records where each connection
// went and the first line the target answered ("HTTP/1.1 200 OK").
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Forwarded {
  readonly target: string;
  /** The first line of the target's answer, or why there was none. */
  firstLine: string;
}

export class TcpSwitch {
  readonly connections: Forwarded[] = [];

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  /** `choose` names a target and its port at each connection; null refuses it (the connection is closed). */
  static async start(choose: () => { name: string; port: number } | null): Promise<TcpSwitch> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const self = new TcpSwitch(server, (server.address() as AddressInfo).port);
    server.on('connection', (client) => {
      client.on('error', () => {});
      const target = choose();
      if (!target) {
        self.connections.push({ target: 'refused', firstLine: '' });
        client.destroy();
        return;
      }
      const record: Forwarded = { target: target.name, firstLine: '(no answer)' };
      self.connections.push(record);
      client.pause();
      // A replica still starting may not listen yet: a few tries, 100 ms apart (bounded: 2 s).
      const attempt = (left: number) => {
        const upstream = net.connect(target.port, '127.0.0.1');
        let connected = false;
        upstream.once('connect', () => {
          connected = true;
          let head = '';
          const onData = (chunk: Buffer) => {
            head += chunk.toString('latin1');
            const end = head.indexOf('\r\n');
            if (end >= 0 || head.length > 200) {
              record.firstLine = end >= 0 ? head.slice(0, end) : '(binary)';
              upstream.removeListener('data', onData);
            }
          };
          upstream.on('data', onData);
          client.pipe(upstream).pipe(client);
          client.resume();
        });
        upstream.once('error', (error) => {
          if (!connected && left > 0 && !client.destroyed) return void setTimeout(() => attempt(left - 1), 100);
          record.firstLine = `(error: ${error.message})`;
          client.destroy();
        });
        client.once('close', () => upstream.destroy());
      };
      attempt(20);
    });
    return self;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
