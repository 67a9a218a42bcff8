// The http-proxy-3 instance and upstream connection pools: the only module that knows them.
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { ProxyServer } from 'http-proxy-3';
import type { Endpoint } from '../routes/types.js';
import { removeHopByHop } from './headers.js';
import { UPSTREAM_TIMEOUT } from './upstream-errors.js';

export type ForwardError = (error: Error) => void;

export interface Forwarder {
  web(req: http.IncomingMessage, res: http.ServerResponse, endpoint: Endpoint, onError: ForwardError): void;
  ws(req: http.IncomingMessage, socket: Duplex, head: Buffer, endpoint: Endpoint, onError: ForwardError): void;
  close(): void;
}

/** Containers mostly carry self-signed certificates; outside sites from the routes file are verified. */
function perEndpoint(endpoint: Endpoint) {
  return { secure: endpoint.verifyTls === true, changeOrigin: endpoint.upstreamHost === true };
}

export interface ForwarderOptions {
  readonly upstreamTimeoutMs: number;
  /** A WebSocket with no traffic either way for this long is closed. */
  readonly websocketIdleMs: number;
  /** +1 when a WebSocket is established, -1 when it closes. */
  readonly onWebSocket?: (delta: 1 | -1) => void;
}

export function createForwarder(options: ForwarderOptions): Forwarder {
  const agents = {
    http: new http.Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' }),
    https: new https.Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' }),
  };
  const proxy = new ProxyServer({ xfwd: false, changeOrigin: false, prependPath: false, secure: false });
  const targets = new WeakMap<Endpoint, URL>();

  proxy.on('proxyReq', (proxyReq) => {
    proxyReq.setTimeout(options.upstreamTimeoutMs, () => {
      proxyReq.destroy(Object.assign(new Error('upstream timed out'), { code: UPSTREAM_TIMEOUT }));
    });
  });
  proxy.on('proxyRes', (proxyRes, _req, res) => {
    removeHopByHop(proxyRes.headers);
    // The client asked to close: say so, rather than echo the upstream's choice.
    if (!(res as http.ServerResponse).shouldKeepAlive) proxyRes.headers['connection'] = 'close';
    // A response cut short upstream must be cut short for the client too, not left hanging.
    proxyRes.once('close', () => {
      if (!proxyRes.complete) (res as http.ServerResponse).destroy();
    });
  });
  const { onWebSocket, websocketIdleMs } = options;
  proxy.on('proxyReqWs', (proxyReq, _req, socket) => {
    proxyReq.once('upgrade', () => {
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

  function targetOf(endpoint: Endpoint): URL {
    let target = targets.get(endpoint);
    if (!target) {
      const host = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
      target = new URL(`${endpoint.scheme}://${host}:${endpoint.port}`);
      targets.set(endpoint, target);
    }
    return target;
  }

  return {
    web(req, res, endpoint, onError) {
      const agent = endpoint.scheme === 'https' ? agents.https : agents.http;
      proxy.web(req, res, { target: targetOf(endpoint), agent, ...perEndpoint(endpoint) }, (error) => onError(error as Error));
    },
    ws(req, socket, head, endpoint, onError) {
      // Upgraded sockets leave the pool anyway: a fresh connection each.
      proxy.ws(req, socket, head, { target: targetOf(endpoint), agent: false, ...perEndpoint(endpoint) }, (error) => onError(error as Error));
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
      proxy.close();
    },
  };
}
