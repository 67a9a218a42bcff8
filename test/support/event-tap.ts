// One /events response as the relay passes it on: the engine's lines, which can be held back and
// released reversed or twice, lines injected by a test, or nothing more once silenced.
import type { ChoppedWriter } from './chopped-writer.js';

export interface Release {
  readonly reverse?: boolean;
  readonly duplicate?: boolean;
}

export class EventTap {
  private partial = Buffer.alloc(0);
  private holding = false;
  private held: Buffer[] = [];
  private silent = false;

  constructor(private readonly writer: ChoppedWriter) {}

  /** Bytes from the engine's /events body. */
  fromEngine(chunk: Buffer): void {
    if (this.silent) return;
    const bytes = Buffer.concat([this.partial, chunk]);
    const end = bytes.lastIndexOf(0x0a) + 1;
    this.partial = Buffer.from(bytes.subarray(end));
    for (let start = 0; start < end; ) {
      const next = bytes.indexOf(0x0a, start) + 1;
      const line = Buffer.from(bytes.subarray(start, next));
      if (this.holding) this.held.push(line);
      else this.writer.write(line);
      start = next;
    }
  }

  inject(bytes: Buffer): void {
    if (!this.silent) this.writer.write(bytes);
  }

  hold(): void {
    this.holding = true;
  }

  /** The engine's lines held back so far. */
  get heldLines(): string[] {
    return this.held.map((line) => line.toString('utf8'));
  }

  release({ reverse = false, duplicate = false }: Release): void {
    const lines = reverse ? [...this.held].reverse() : this.held;
    this.held = [];
    this.holding = false;
    for (const line of lines) {
      this.writer.write(line);
      if (duplicate) this.writer.write(line);
    }
  }

  /** Keeps the connection open but passes nothing more on it. */
  silence(): void {
    this.silent = true;
    this.held = [];
  }
}
