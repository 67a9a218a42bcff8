// Docker events as hints: which ones call for a rebuild, and which mean "stop sending here now".

/** The parts of an Engine API event line that berth reads. */
export interface DockerEvent {
  readonly type: string;
  readonly action: string;
  /** Container id (also for network events, where Docker puts it in the attributes). */
  readonly containerId: string | null;
  readonly signal: string | null;
  /** When the daemon logged it, in nanoseconds; null when the line does not say. */
  readonly time: number | null;
  /** Actor.Attributes with string values: a container's labels and name, a network's name. */
  readonly attributes: Readonly<Record<string, string>>;
}

const CONTAINER_ACTIONS = new Set(['start', 'die', 'stop', 'kill', 'destroy', 'pause', 'unpause', 'rename', 'restart', 'update']);
const NETWORK_ACTIONS = new Set(['connect', 'disconnect']);

// Signals that ask a process to reload or report, not to exit.
const NON_TERMINATING = new Set(['1', '10', '12', '17', '18', '19', '20', '28', 'HUP', 'USR1', 'USR2', 'CHLD', 'CONT', 'STOP', 'TSTP', 'WINCH']);

/** Parses one JSON line of the events stream; undefined when it is not an event. */
export function parseEvent(line: string): DockerEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const event = raw as { Type?: unknown; Action?: unknown; status?: unknown; id?: unknown; time?: unknown; timeNano?: unknown; Actor?: { ID?: unknown; Attributes?: Record<string, unknown> } };
  const type = typeof event.Type === 'string' ? event.Type : 'container';
  const action = typeof event.Action === 'string' ? event.Action : typeof event.status === 'string' ? event.status : '';
  if (action === '') return undefined;
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(event.Actor?.Attributes ?? {})) if (typeof value === 'string') attributes[key] = value;
  const id = type === 'network' ? attributes['container'] : (event.Actor?.ID ?? event.id);
  return {
    type,
    action,
    containerId: typeof id === 'string' ? id : null,
    signal: typeof attributes['signal'] === 'string' ? attributes['signal'] : null,
    time: typeof event.timeNano === 'number' ? event.timeNano : typeof event.time === 'number' ? event.time * 1e9 : null,
    attributes,
  };
}

/** Whether the event may change what the container list says about routing. */
export function isRelevant(event: DockerEvent): boolean {
  if (event.type === 'network') return NETWORK_ACTIONS.has(event.action);
  if (event.type !== 'container') return false;
  return CONTAINER_ACTIONS.has(event.action) || event.action.startsWith('health_status');
}

/**
 * True when the container is on its way out: a `stop`, or a `kill` whose signal ends a process
 * (its own stop signal included), so it leaves its pool before it dies.
 */
export function isTerminating(event: DockerEvent): boolean {
  if (event.type !== 'container') return false;
  if (event.action === 'stop') return true;
  if (event.action !== 'kill') return false;
  const signal = (event.signal ?? '').toUpperCase().replace(/^SIG/, '');
  return signal !== '' && !NON_TERMINATING.has(signal);
}

/** True when the container is running again, so an earlier "stopping" mark no longer holds. */
export function isRevival(event: DockerEvent): boolean {
  return event.type === 'container' && (event.action === 'start' || event.action === 'restart' || event.action === 'unpause');
}
