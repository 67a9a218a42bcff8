// An origin that records every request exactly as it arrived on the wire: its own strict
// HTTP/1.1 parser per connection, so bytes a proxy lets through unframed show up as another
// request (or as garbage), never hidden by a lenient library.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  /** Which upstream connection it came on (0, 1, ...), in accept order. */
  readonly connection: number;
  readonly method: string;
  readonly target: string;
  /** Header lines as sent: names as written, in order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly framing: 'length' | 'chunked' | 'none';
  readonly body: string;
}

export interface RecordingOrigin {
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Bytes that did not parse as a request, by connection. */
  readonly garbage: string[];
  /** How many upstream connections were accepted. */
  readonly connections: () => number;
  close(): Promise<void>;
}

/** Value of a header (case-insensitive) of a recorded request, or undefined. */
export function header(request: RecordedRequest, name: string): string | undefined {
  return request.headers.find(([key]) => key.toLowerCase() === name)?.[1];
}

/** @param delayMs how long to wait before answering each request */
export async function startRecordingOrigin({ delayMs = 0 } = {}): Promise<RecordingOrigin> {
  const requests: RecordedRequest[] = [];
  const garbage: string[] = [];
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    const connection = accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = Buffer.alloc(0);
    let queue = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const parsed = parseOne(buffer);
        if (parsed === 'incomplete') return;
        if (parsed === 'invalid') {
          garbage.push(buffer.toString('latin1'));
          buffer = Buffer.alloc(0);
          socket.destroy();
          return;
        }
        buffer = buffer.subarray(parsed.consumed);
        const recorded = { connection, ...parsed.request };
        requests.push(recorded);
        const index = requests.length - 1;
        const answer = () => {
          if (socket.destroyed) return;
          const body = JSON.stringify({ index, method: recorded.method, target: recorded.target, body: recorded.body });
          const bodyless = recorded.method === 'HEAD';
          socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${bodyless ? '' : body}`);
        };
        queue = queue.then(() => (delayMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, delayMs)) : undefined)).then(answer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    garbage,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

type Parse = 'incomplete' | 'invalid' | { consumed: number; request: Omit<RecordedRequest, 'connection'> };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses one request from the front of the buffer: CL or chunked bodies, nothing lenient. */
function parseOne(buffer: Buffer): Parse {
  const end = buffer.indexOf('\r\n\r\n');
  if (end === -1) return buffer.length > 64 * 1024 ? 'invalid' : 'incomplete';
  const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
  const requestLine = /^([A-Z]+) (\S+) HTTP\/1\.1$/.exec(lines[0]!);
  if (!requestLine) return 'invalid';
  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || !TOKEN.test(line.slice(0, colon))) return 'invalid';
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  const values = (name: string) => headers.filter(([key]) => key.toLowerCase() === name).map(([, value]) => value);
  const lengths = values('content-length');
  const encodings = values('transfer-encoding');
  if (lengths.length > 1 || encodings.length > 1 || (lengths.length === 1 && encodings.length === 1)) return 'invalid';
  let offset = end + 4;
  const head = { method: requestLine[1]!, target: requestLine[2]!, headers };
  if (encodings.length === 1) {
    if (encodings[0]!.toLowerCase() !== 'chunked') return 'invalid';
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = buffer.indexOf('\r\n', offset);
      if (lineEnd === -1) return 'incomplete';
      const size = /^([0-9a-fA-F]+)$/.exec(buffer.subarray(offset, lineEnd).toString('latin1'));
      if (!size) return 'invalid';
      const length = parseInt(size[1]!, 16);
      const dataEnd = lineEnd + 2 + length;
      if (length === 0) {
        if (buffer.length < dataEnd + 2) return 'incomplete';
        if (buffer.subarray(dataEnd, dataEnd + 2).toString('latin1') !== '\r\n') return 'invalid';
        return { consumed: dataEnd + 2, request: { ...head, framing: 'chunked', body: Buffer.concat(parts).toString('latin1') } };
      }
      if (buffer.length < dataEnd + 2) return 'incomplete';
      if (buffer.subarray(dataEnd, dataEnd + 2).toString('latin1') !== '\r\n') return 'invalid';
      parts.push(buffer.subarray(lineEnd + 2, dataEnd));
      offset = dataEnd + 2;
    }
  }
  if (lengths.length === 1) {
    if (!/^\d+$/.test(lengths[0]!)) return 'invalid';
    const length = Number(lengths[0]);
    if (buffer.length < offset + length) return 'incomplete';
    return { consumed: offset + length, request: { ...head, framing: 'length', body: buffer.subarray(offset, offset + length).toString('latin1') } };
  }
  return { consumed: offset, request: { ...head, framing: 'none', body: '' } };
}
