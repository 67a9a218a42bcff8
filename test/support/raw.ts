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

/**
 * Connects, runs `send` once connected, and hands every chunk received to `received` until it
 * returns true, the server closes, or `waitMs` passes. Resolves whether the server closed.
 */
function talk(port: number, waitMs: number, send: (socket: net.Socket) => void, received: (chunk: Buffer) => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(closed);
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (chunk: Buffer) => received(chunk) && finish(false));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => send(socket));
  });
}

/** Sends bytes (all at once, or in timed pieces) and collects the reply until close or `waitMs`. */
export async function rawExchange(port: number, pieces: ReadonlyArray<string | Buffer>, { waitMs = 2000, gapMs = 0 } = {}): Promise<RawReply> {
  let text = '';
  const send = async (socket: net.Socket) => {
    for (const piece of pieces) {
      if (socket.destroyed) return;
      socket.write(piece);
      if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    }
  };
  const closed = await talk(port, waitMs, (socket) => void send(socket), (chunk) => ((text += chunk.toString('latin1')), false));
  return { text, status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), closed };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

export interface RawConversation {
  readonly responses: RawResponse[];
  /** Whether berth closed the connection. */
  readonly closed: boolean;
}

/**
 * Sends `bytes` (all at once: pipelined when it holds several requests) and reads responses,
 * one per entry of `methods` (HEAD answers carry no body), until they are all in, the
 * connection closes, or `waitMs` passes.
 */
export async function converse(port: number, bytes: string | Buffer, methods: readonly string[], waitMs = 3000): Promise<RawConversation> {
  const responses: RawResponse[] = [];
  let buffer = Buffer.alloc(0);
  const received = (chunk: Buffer): boolean => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end === -1) return false;
      const [statusLine, ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
      const headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()] as [string, string]));
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1] ?? 0);
      const length = methods[responses.length] === 'HEAD' ? 0 : Number(headers.get('content-length') ?? 0);
      if (buffer.length < end + 4 + length) return false;
      responses.push({ status, headers, body: buffer.subarray(end + 4, end + 4 + length).toString('latin1') });
      buffer = buffer.subarray(end + 4 + length);
      if (responses.length === methods.length) return true;
    }
  };
  const closed = await talk(port, waitMs, (socket) => socket.write(bytes), received);
  return { responses, closed };
}
