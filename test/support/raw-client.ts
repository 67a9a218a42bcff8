// A client that writes exact bytes and reads back a known number of responses on one connection.
import net from 'node:net';

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
export function converse(port: number, bytes: string | Buffer, methods: readonly string[], waitMs = 3000): Promise<RawConversation> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const responses: RawResponse[] = [];
    let buffer = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ responses, closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const [statusLine, ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
        const headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()] as [string, string]));
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1] ?? 0);
        const length = methods[responses.length] === 'HEAD' ? 0 : Number(headers.get('content-length') ?? 0);
        if (buffer.length < end + 4 + length) return;
        responses.push({ status, headers, body: buffer.subarray(end + 4, end + 4 + length).toString('latin1') });
        buffer = buffer.subarray(end + 4 + length);
        if (responses.length === methods.length) return finish(false);
      }
    });
  });
}
