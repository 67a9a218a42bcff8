// Writes a response body in random pieces, each its own write and so its own HTTP chunk: the
// reader meets lines split anywhere (also inside a multi-byte character) and several lines at once.
import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** What the pieces looked like, so a test can show the faults really happened. */
export interface ChopStats {
  pieces: number;
  /** Pieces that end between the bytes of one UTF-8 character. */
  splitsInsideCharacter: number;
  /** Pieces that end inside a line. */
  splitsInsideLine: number;
  /** Pieces holding two or more whole line ends. */
  piecesWithSeveralLines: number;
  /** Line ends written so far. */
  lines: number;
}

export function emptyChopStats(): ChopStats {
  return { pieces: 0, splitsInsideCharacter: 0, splitsInsideLine: 0, piecesWithSeveralLines: 0, lines: 0 };
}

/** A small seeded generator (mulberry32), so a failing run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How big the next piece is, given what is waiting; null: all of it. */
export type Grain = ((queue: Buffer, random: () => number) => number) | null;

export class ChoppedWriter {
  private queue: Buffer = Buffer.alloc(0);
  private writing = false;
  private ending = false;

  constructor(
    private readonly out: ServerResponse,
    private readonly grain: Grain,
    private readonly stats: ChopStats,
    private readonly random: () => number,
  ) {}

  write(bytes: Buffer): void {
    this.queue = this.queue.length === 0 ? bytes : Buffer.concat([this.queue, bytes]);
    void this.drain();
  }

  end(): void {
    this.ending = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    while (this.queue.length > 0 && !this.out.destroyed) {
      const size = this.grain ? Math.min(this.grain(this.queue, this.random), this.queue.length) : this.queue.length;
      const piece = this.queue.subarray(0, size);
      this.queue = this.queue.subarray(size);
      this.count(piece);
      if (!this.out.write(piece)) await drained(this.out);
      // A turn of the event loop between pieces, so they leave as separate writes.
      if (this.grain) await nextTurn();
    }
    this.writing = false;
    if (this.ending && this.queue.length === 0 && !this.out.destroyed) this.out.end();
  }

  private count(piece: Buffer): void {
    this.stats.pieces++;
    let ends = 0;
    for (let at = piece.indexOf(0x0a); at !== -1; at = piece.indexOf(0x0a, at + 1)) ends++;
    this.stats.lines += ends;
    if (ends >= 2) this.stats.piecesWithSeveralLines++;
    const next = this.queue[0];
    if (next === undefined) return;
    if (piece[piece.length - 1] !== 0x0a) this.stats.splitsInsideLine++;
    if ((next & 0xc0) === 0x80) this.stats.splitsInsideCharacter++;
  }
}

/**
 * For line-framed streams: sometimes up to the end of the second or third line (several events in
 * one read), often just inside the next multi-byte character, else a few bytes.
 */
export function lineGrain(queue: Buffer, random: () => number): number {
  if (queue.length > 64 * 1024) return bodyGrain(queue, random);
  const roll = random();
  const several = roll < 0.1 ? endOfLine(queue, 2 + Math.floor(random() * 2)) : -1;
  if (several !== -1) return several;
  const lead = roll < 0.35 ? multiByteLead(queue.subarray(0, 64)) : -1;
  if (lead !== -1) return lead + 1;
  return 1 + Math.floor(random() * 12);
}

/** Pieces of up to 4 KiB: a body arrives in several reads, yet quickly. */
export function bodyGrain(_queue: Buffer, random: () => number): number {
  return 1 + Math.floor(random() * 4096);
}

/** The length up to and including the nth line end, or -1 when the queue holds fewer. */
function endOfLine(queue: Buffer, nth: number): number {
  let at = -1;
  for (let found = 0; found < nth; found++) {
    at = queue.indexOf(0x0a, at + 1);
    if (at === -1) return -1;
  }
  return at + 1;
}

/** Index of the first byte that starts a multi-byte UTF-8 character, or -1. */
function multiByteLead(bytes: Buffer): number {
  return bytes.findIndex((byte) => (byte & 0xc0) === 0xc0);
}

function drained(out: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}
