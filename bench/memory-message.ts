/** What berth.ts sends the memory probe over the IPC channel, and the type of its answer. */
export const MEMORY_REQUEST = 'bench:memory';
