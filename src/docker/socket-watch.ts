// dockerd creates its socket afresh each time it starts: watching the socket's folder lets a
// reconnect start the moment the daemon is back instead of when the backoff runs out.
import { existsSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

/** Calls onCreated whenever the socket file appears; returns a function that stops watching. */
export function watchSocketFile(socketPath: string, onCreated: () => void): () => void {
  const name = basename(socketPath);
  try {
    const watcher = watch(dirname(socketPath), { persistent: false }, (_event, changed) => {
      if (changed === name && existsSync(socketPath)) onCreated();
    });
    // A folder that goes away ends the watch; the backoff still brings the next attempt.
    watcher.on('error', () => watcher.close());
    return () => watcher.close();
  } catch {
    // No folder to watch (yet): the backoff alone decides.
    return () => undefined;
  }
}
