// X-Request-Id values shaped as version 4 UUIDs, for a fraction of randomUUID's cost: 80 random
// bits drawn once per process, then a 48-bit counter from a random start. Unique within a process,
// and across processes (cluster workers, restarts) unless two draw the same 80 bits. Ids name a
// request in logs; nothing relies on them being unguessable.
import { randomBytes } from 'node:crypto';

const COUNTER_LIMIT = 2 ** 48;

let prefix = '';
let counter = COUNTER_LIMIT;

/** A fresh id: 8-4-4-4-12 lowercase hex digits, version 4, variant 10xx. */
export function nextRequestId(): string {
  if (++counter >= COUNTER_LIMIT) reseed();
  return prefix + counter.toString(16).padStart(12, '0');
}

function reseed(): void {
  const bytes = randomBytes(16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-`;
  // A random start within the first 2^32, so that a process that reseeds rarely repeats a neighbour's run.
  counter = bytes.readUInt32BE(10);
}
