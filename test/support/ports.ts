// Ports for tests that need one before anything listens on it.
import { createServer } from 'node:net';

/** A TCP port free on loopback now (for a container on the host's network, or a listener started later). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
