// Reads the server name and the ALPN protocols from a TLS ClientHello, before any TLS library
// sees it: berth must know that a client offers `acme-tls/1` before a certificate is chosen,
// and Node's SNICallback is told the name only. Pure; any malformed input gives 'invalid'.

export interface ClientHello {
  readonly serverName: string | null;
  readonly alpn: readonly string[];
}

/** 'incomplete' until the whole first handshake record is in `data`. */
export type HelloReading = ClientHello | 'incomplete' | 'invalid';

const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
/** Larger ClientHellos exist (post-quantum key shares), but one record holds at most 16 KiB. */
const MAX_RECORD = 16 * 1024 + 2048;

export function readClientHello(data: Buffer): HelloReading {
  if (data.length < 5) return 'incomplete';
  if (data[0] !== HANDSHAKE || data[1] !== 3) return 'invalid';
  const recordLength = data.readUInt16BE(3);
  if (recordLength > MAX_RECORD) return 'invalid';
  if (data.length < 5 + recordLength) return 'incomplete';
  const body = data.subarray(5, 5 + recordLength);
  try {
    return parseHello(body);
  } catch {
    return 'invalid';
  }
}

/** A cursor that throws past the end; the caller turns that into 'invalid'. */
class Reader {
  constructor(
    private readonly buffer: Buffer,
    private offset = 0,
    private readonly end = buffer.length,
  ) {}
  u8(): number {
    this.need(1);
    return this.buffer[this.offset++]!;
  }
  u16(): number {
    this.need(2);
    const value = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }
  u24(): number {
    return (this.u8() << 16) | this.u16();
  }
  skip(count: number): void {
    this.need(count);
    this.offset += count;
  }
  /** A sub-reader over the next `count` bytes, which this one skips. */
  take(count: number): Reader {
    this.need(count);
    const sub = new Reader(this.buffer, this.offset, this.offset + count);
    this.offset += count;
    return sub;
  }
  text(count: number): string {
    this.need(count);
    const value = this.buffer.toString('latin1', this.offset, this.offset + count);
    this.offset += count;
    return value;
  }
  get left(): number {
    return this.end - this.offset;
  }
  private need(count: number): void {
    if (this.offset + count > this.end) throw new RangeError('past the end');
  }
}

function parseHello(record: Buffer): HelloReading {
  const reader = new Reader(record);
  if (reader.u8() !== CLIENT_HELLO) return 'invalid';
  const length = reader.u24();
  // A ClientHello split over several records is legal but rare: serve it without peeking further.
  if (length > reader.left) return { serverName: null, alpn: [] };
  const hello = reader.take(length);
  hello.skip(2 + 32); // version, random
  hello.skip(hello.u8()); // session id
  hello.skip(hello.u16()); // cipher suites
  hello.skip(hello.u8()); // compression methods
  let serverName: string | null = null;
  const alpn: string[] = [];
  if (hello.left === 0) return { serverName, alpn };
  const extensions = hello.take(hello.u16());
  while (extensions.left > 0) {
    const type = extensions.u16();
    const data = extensions.take(extensions.u16());
    if (type === EXT_SERVER_NAME) {
      const list = data.take(data.u16());
      while (list.left > 0) {
        const nameType = list.u8();
        const name = list.text(list.u16());
        if (nameType === 0) serverName = name.toLowerCase();
      }
    } else if (type === EXT_ALPN) {
      const list = data.take(data.u16());
      while (list.left > 0) alpn.push(list.text(list.u8()));
    }
  }
  return { serverName, alpn };
}
