// An HTTP relay to a real server that can hold back requests to one path until released: it
// opens the gap between a read and the watch that follows it, which a real server shows only by
// chance (a compaction falling in that gap).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HeldRelay {
  readonly url: string;
  /** Requests to this path wait until `release()`. */
  hold(): void;
  release(): void;
  /** How many requests are waiting. */
  readonly waiting: number;
  close(): Promise<void>;
}

export async function startHeldRelay(target: string, heldPath: string): Promise<HeldRelay> {
  const goal = new URL(target);
  let holding = false;
  let queue: Array<() => void> = [];
  const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const upstream = http.request({ host: goal.hostname, port: goal.port, path: req.url, method: req.method, headers: req.headers }, (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  };
  const server = http.createServer((req, res) => {
    if (holding && req.url === heldPath) {
      req.pause();
      queue.push(() => {
        req.resume();
        forward(req, res);
      });
    } else forward(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold: () => (holding = true),
    release: () => {
      holding = false;
      const waiting = queue;
      queue = [];
      for (const go of waiting) go();
    },
    get waiting() {
      return queue.length;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
