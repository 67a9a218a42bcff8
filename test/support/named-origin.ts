// An origin on loopback that answers with its name and the path it received: which backend
// served a request shows in the body.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface NamedOrigin {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function startNamedOrigin(name: string): Promise<NamedOrigin> {
  const server = http.createServer((req, res) => res.end(`${name} ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
