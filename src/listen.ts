// Listening on a port, as a promise of the port actually bound.
import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';

export function listen(server: Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
