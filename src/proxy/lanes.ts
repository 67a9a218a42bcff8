// One request of a connection at a time. Node's server emits every pipelined request at once;
// served side by side they would open an upstream connection each, and keep running after the
// client left. Here the next waits for the one before, and a closed connection drops the rest.
import type http from 'node:http';
import type { Socket } from 'node:net';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

// Stop reading a connection that has this many requests waiting; read again when they are served.
const PAUSE_AT = 32;

interface Lane {
  busy: boolean;
  closed: boolean;
  readonly waiting: Array<[http.IncomingMessage, http.ServerResponse]>;
}

/** Whether the response said Connection: close (berth's refusals, or the client asked). */
function endsConnection(res: http.ServerResponse): boolean {
  // Node marks such a response `_last` when it writes its head; no public property says it.
  return (res as { _last?: boolean })._last === true;
}

/**
 * Wraps a request handler so that each connection's requests run in order, one at a time.
 * `onDropped` hears of every request that waited and was never started because its client left.
 */
export function oneAtATime(handler: Handler, onDropped: (req: http.IncomingMessage) => void): Handler {
  const lanes = new WeakMap<Socket, Lane>();

  function drop(lane: Lane): void {
    lane.closed = true;
    for (const [waitingReq] of lane.waiting.splice(0)) onDropped(waitingReq);
  }

  // One listener for every response, not a closure each: the lane is found by the request's socket.
  function onResponseClose(this: http.ServerResponse): void {
    const socket = this.req.socket;
    const lane = lanes.get(socket);
    if (!lane) return;
    lane.busy = false;
    // The response may close with its connection, before the connection's own close event; and
    // one that ends its connection (a refusal, Connection: close) leaves nothing after it to serve.
    if (socket.destroyed || endsConnection(this)) drop(lane);
    if (lane.closed) return;
    const next = lane.waiting.shift();
    if (lane.waiting.length === PAUSE_AT - 1) socket.resume();
    if (next) run(lane, next[0], next[1]);
  }

  function run(lane: Lane, req: http.IncomingMessage, res: http.ServerResponse): void {
    lane.busy = true;
    res.on('close', onResponseClose);
    handler(req, res);
  }

  return (req, res) => {
    const socket = req.socket;
    let lane = lanes.get(socket);
    if (!lane) {
      const created: Lane = { busy: false, closed: false, waiting: [] };
      lanes.set(socket, (lane = created));
      socket.once('close', () => drop(created));
    }
    // Bytes after a response that ended the connection are never served, whatever they hold.
    if (lane.closed) return onDropped(req);
    if (!lane.busy) return run(lane, req, res);
    lane.waiting.push([req, res]);
    if (lane.waiting.length === PAUSE_AT) socket.pause();
  };
}
