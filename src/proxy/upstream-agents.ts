// The keep-alive pools for plain requests, whose sockets carry the deadlines themselves: one connect
// timer per new connection and one idle timer per socket, kept armed from request to request,
// where Node's per-request setTimeout would make a timer and add listeners on every request.
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { CONNECT_TIMEOUT, UPSTREAM_TIMEOUT } from './upstream-errors.js';

export interface Deadlines {
  /** Longest wait for the TCP connection to the upstream. */
  readonly connectMs: number;
  /** Longest silence from the upstream once connected (response head, then body). */
  readonly idleMs: number;
}

export interface Agents {
  readonly http: http.Agent;
  readonly https: https.Agent;
}

const POOL = { keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' } as const;

export const timeoutError = (code: string, message: string) => Object.assign(new Error(message), { code });

/** Sockets berth made, with their idle limit; a socket's request is `_httpMessage` while it is in use. */
type PooledSocket = net.Socket & { _httpMessage?: (http.ClientRequest & { res?: http.IncomingMessage | null }) | null; timeout?: number };

export function createAgents(deadlines: Deadlines): Agents {
  return { http: withDeadlines(new http.Agent(POOL), deadlines), https: withDeadlines(new https.Agent(POOL), deadlines) };
}

function withDeadlines<A extends http.Agent>(agent: A, { connectMs, idleMs }: Deadlines): A {
  const internal = agent as unknown as {
    createConnection(options: object, callback?: (error: Error | null, socket: Duplex) => void): PooledSocket;
    keepSocketAlive(socket: PooledSocket): boolean;
    reuseSocket(socket: PooledSocket, req: http.ClientRequest): void;
  };
  const create = internal.createConnection.bind(agent);
  internal.createConnection = (options, callback) => {
    const socket = create(options, callback);
    const timer = setTimeout(onConnectTimeout, connectMs, socket);
    // The idle limit starts once connected: until then the connect deadline is the one that runs.
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setTimeout(idleMs);
    });
    socket.once('close', () => clearTimeout(timer));
    socket.on('timeout', onIdle);
    return socket;
  };
  // Node's own keeping (agent.js) resets a freed socket's timer to the agent's, none here, on
  // every request; this keeps berth's limit armed instead, or the server's Keep-Alive hint, less a
  // second, when that is shorter (a hint of a second or less: not kept, as Node does).
  internal.keepSocketAlive = (socket) => {
    socket.setKeepAlive(true, (agent as { keepAliveMsecs?: number }).keepAliveMsecs ?? 1000);
    socket.unref();
    const hint = keepAliveHintMs(socket);
    if (hint === 0) return false;
    const limit = hint !== null && hint < idleMs ? hint : idleMs;
    if (socket.timeout !== limit) socket.setTimeout(limit);
    return true;
  };
  const reuse = internal.reuseSocket.bind(agent);
  // A socket that waited under a shorter hint gets berth's full limit back for its request.
  internal.reuseSocket = (socket, req) => {
    reuse(socket, req);
    if (socket.timeout !== idleMs) socket.setTimeout(idleMs);
  };
  return agent;
}

/** What the server's `Keep-Alive: timeout=N` leaves of its idle time, less a second; null without one. */
function keepAliveHintMs(socket: PooledSocket): number | null {
  const value = socket._httpMessage?.res?.headers['keep-alive'];
  const seconds = typeof value === 'string' ? /^timeout=(\d+)/.exec(value)?.[1] : undefined;
  return seconds === undefined ? null : Math.max(0, Number(seconds) * 1000 - 1000);
}

function onConnectTimeout(socket: PooledSocket): void {
  if (socket.connecting) socket.destroy(timeoutError(CONNECT_TIMEOUT, 'upstream did not accept the connection in time'));
}

/** Silence past the limit: the request under way fails as timed out; an idle pooled socket just closes. */
function onIdle(this: PooledSocket): void {
  const request = this._httpMessage;
  if (request) request.destroy(timeoutError(UPSTREAM_TIMEOUT, 'upstream timed out'));
  else this.destroy();
}
