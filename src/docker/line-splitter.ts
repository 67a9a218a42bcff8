// Newline framing over a byte stream: a chunk may hold several lines or part of one,
// and a line may break inside a multi-byte character, so bytes are joined before decoding.

export interface LineSplitter {
  /** Feeds bytes; calls onLine for each complete line, onOversize for each dropped one. */
  push(chunk: Buffer): void;
}

export function createLineSplitter(onLine: (line: string) => void, onOversize: (bytes: number) => void, maxLineBytes = 1024 * 1024): LineSplitter {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let discarding = false;
  return {
    push(chunk: Buffer): void {
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        const piece = chunk.subarray(start, nl);
        if (discarding) {
          onOversize(pendingBytes + piece.length);
        } else if (pendingBytes + piece.length > maxLineBytes) {
          onOversize(pendingBytes + piece.length);
        } else {
          const line = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
          const text = line.toString('utf8').trim();
          if (text !== '') onLine(text);
        }
        pending = [];
        pendingBytes = 0;
        discarding = false;
        start = nl + 1;
      }
      const rest = chunk.subarray(start);
      if (rest.length === 0) return;
      if (discarding || pendingBytes + rest.length > maxLineBytes) {
        // Keep counting but stop buffering: a runaway line must not grow memory.
        discarding = true;
        pendingBytes += rest.length;
        pending = [];
        return;
      }
      pending.push(Buffer.from(rest));
      pendingBytes += rest.length;
    },
  };
}
