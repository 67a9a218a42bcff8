// Upstream connections: keep-alive pools, plain requests (berth's own sender) and WebSockets
// (http-proxy-3). The only module that knows either.
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { ProxyServer } from 'http-proxy-3';
import type { Endpoint } from '../routes/types.js';
import { bracketed } from '../util/ip.js';
import { upstreamTlsOptions } from './upstream-tls.js';
import { createAgents, type Deadlines } from './upstream-agents.js';
import { applyDeadlines, sendUpstream, type UpstreamHead } from './upstream.js';

export type ForwardError = (error: Error) => void;

export interface Forwarder {
  web(req: http.IncomingMessage, res: http.ServerResponse, endpoint: Endpoint, head: UpstreamHead, onError: ForwardError): void;
  /** `path` is sent as it is; `req.headers` must already be the upstream's. */
  ws(req: http.IncomingMessage, socket: Duplex, head: Buffer, endpoint: Endpoint, path: string, onError: ForwardError): void;
  close(): void;
}

export interface ForwarderOptions {
  readonly connectTimeoutMs: number;
  readonly upstreamTimeoutMs: number;
  /** A WebSocket with no traffic either way for this long is closed. */
  readonly websocketIdleMs: number;
  /** +1 when a WebSocket is established, -1 when it closes. */
  readonly onWebSocket?: (delta: 1 | -1) => void;
}

export function createForwarder(options: ForwarderOptions): Forwarder {
  const deadlines: Deadlines = { connectMs: options.connectTimeoutMs, idleMs: options.upstreamTimeoutMs };
  const agents = createAgents(deadlines);
  // toProxy: the path is taken as given, never re-parsed with WHATWG URL (which reads `\` as `/`).
  const proxy = new ProxyServer({ xfwd: false, changeOrigin: false, prependPath: false, toProxy: true, secure: false });
  const wsTargets = new WeakMap<Endpoint, URL>();
  const wsPaths = new WeakMap<http.IncomingMessage, string>();
  // Client sockets whose tunnel is up: a later upstream error only closes them (no HTTP page in the tunnel).
  const tunnelled = new WeakSet<Duplex>();

  const { onWebSocket, websocketIdleMs } = options;
  proxy.on('proxyReqWs', (proxyReq, req, socket) => {
    // The head is written at end(), after this event: the exact path goes in now.
    proxyReq.path = wsPaths.get(req) ?? proxyReq.path;
    // The handshake has the same deadlines as any request; the tunnel then has its own idle limit.
    applyDeadlines(proxyReq, deadlines);
    proxyReq.once('upgrade', (_res, upstream) => {
      tunnelled.add(socket);
      upstream.setTimeout(0);
      // Everything either side sends crosses the client socket: its idleness is the link's.
      socket.setTimeout(websocketIdleMs, () => socket.destroy());
      if (onWebSocket) {
        onWebSocket(1);
        socket.once('close', () => onWebSocket(-1));
      }
    });
  });
  // A client that goes away mid-request is not an error worth a log line.
  proxy.on('econnreset', () => {});
  proxy.on('error', () => {});

  function wsTargetOf(endpoint: Endpoint): URL {
    let target = wsTargets.get(endpoint);
    if (!target) {
      target = new URL(`${endpoint.scheme}://${bracketed(endpoint.address)}:${endpoint.port}`);
      wsTargets.set(endpoint, target);
    }
    return target;
  }

  return {
    web(req, res, endpoint, head, onError) {
      sendUpstream(req, res, endpoint, head, { agents, tls: endpoint.scheme === 'https' ? upstreamTlsOptions(endpoint) : {} }, onError);
    },
    ws(req, socket, head, endpoint, path, onError) {
      wsPaths.set(req, path);
      // Upgraded sockets leave the pool anyway: a fresh connection each.
      const tls = upstreamTlsOptions(endpoint);
      const options = { target: wsTargetOf(endpoint), agent: false as const, secure: tls.rejectUnauthorized, ...(tls.ca ? { ca: tls.ca } : {}) };
      proxy.ws(req, socket, head, options, (error) => {
        if (tunnelled.has(socket)) return void socket.destroy();
        onError(error as Error);
      });
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
      proxy.close();
    },
  };
}
