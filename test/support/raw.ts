// Raw bytes over TCP, for requests no well-behaved client would send.
import net from 'node:net';

export interface RawReply {
  /** Everything the server sent before closing (or before the wait ran out). */
  readonly text: string;
  /** The status code of the first response, or 0 when there was none. */
  readonly status: number;
  /** Whether the server closed the connection within the wait. */
  readonly closed: boolean;
}

/** Sends bytes (all at once, or in timed pieces) and collects the reply until close or `waitMs`. */
export function rawExchange(port: number, pieces: ReadonlyArray<string | Buffer>, { waitMs = 2000, gapMs = 0 } = {}): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', async () => {
      for (const piece of pieces) {
        if (socket.destroyed) return;
        socket.write(piece);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}
