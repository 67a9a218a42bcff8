// Server-sent events: every subscriber gets a snapshot now and after each change,
// at most a few per second however fast things change.
import type http from 'node:http';

export interface SnapshotStream {
  subscribe(res: http.ServerResponse): void;
  /** Something changed: send a fresh snapshot soon. */
  changed(): void;
  close(): void;
}

const MIN_GAP_MS = 200;
const HEARTBEAT_MS = 15_000;

export function createSnapshotStream(snapshot: () => unknown): SnapshotStream {
  const subscribers = new Set<http.ServerResponse>();
  let pending: NodeJS.Timeout | null = null;
  let lastSent = 0;

  const frame = () => `event: snapshot\ndata: ${JSON.stringify(snapshot())}\n\n`;
  const send = () => {
    pending = null;
    lastSent = Date.now();
    if (subscribers.size === 0) return;
    const text = frame();
    for (const res of subscribers) res.write(text);
  };
  const heartbeat = setInterval(() => {
    for (const res of subscribers) res.write(': ping\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    subscribe(res) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(frame());
      subscribers.add(res);
      res.once('close', () => subscribers.delete(res));
    },
    changed() {
      if (pending) return;
      pending = setTimeout(send, Math.max(0, lastSent + MIN_GAP_MS - Date.now()));
    },
    close() {
      clearInterval(heartbeat);
      if (pending) clearTimeout(pending);
      for (const res of subscribers) res.end();
      subscribers.clear();
    },
  };
}
