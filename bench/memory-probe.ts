// Preloaded into berth (node --import) by the scale benchmark: asked over the IPC channel, it runs
// a full garbage collection and answers with the process's memory, so heap figures count live
// objects only.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MEMORY_REQUEST } from './memory-message.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

if (process.send) {
  // The channel must not keep berth alive once it wants to exit.
  process.channel?.unref();
  process.on('message', (message: unknown) => {
    if (message !== MEMORY_REQUEST) return;
    collectGarbage();
    collectGarbage();
    process.send?.({ type: MEMORY_REQUEST, ...process.memoryUsage() });
  });
}
