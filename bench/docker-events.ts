// The Engine's event stream for the benchmark's containers, with the daemon's own timestamps
// (timeNano), so that "since the event" does not include our delay in hearing of it.
import { createInterface } from 'node:readline';
import { engineStream, filters } from './engine.js';

export interface ContainerEvent {
  readonly action: string;
  readonly id: string;
  readonly name: string;
  /** When the daemon emitted it, in ms since the epoch. */
  readonly at: number;
}

export interface EventWatch {
  /** The first event with this action for this container (by id or name), waiting for it if need be. */
  next(container: string, action: string, timeoutMs?: number): Promise<ContainerEvent>;
  close(): void;
}

export async function watchEvents(label: string): Promise<EventWatch> {
  const stream = await engineStream(`/events?filters=${filters({ type: ['container'], label: [label] })}`);
  const seen: ContainerEvent[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: stream }).on('line', (line) => {
    const raw = JSON.parse(line) as { Action: string; timeNano: number; Actor: { ID: string; Attributes: { name?: string } } };
    // health_status events carry ": healthy" after the action.
    seen.push({ action: raw.Action.split(':')[0]!, id: raw.Actor.ID, name: raw.Actor.Attributes.name ?? '', at: raw.timeNano / 1e6 });
    for (const wake of waiters) wake();
  });
  const find = (container: string, action: string) => {
    const index = seen.findIndex((event) => event.action === action && (event.id === container || event.name === container));
    return index === -1 ? undefined : seen.splice(index, 1)[0];
  };
  return {
    async next(container, action, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const event = find(container, action);
        if (event) return event;
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error(`no ${action} event for ${container} within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, remaining);
          waiters.add(wake);
        });
      }
    },
    close: () => stream.destroy(),
  };
}
