// The HTTPS listener: a front door that reads each ClientHello first (ALPN acme-tls/1 gets the
// ACME challenge certificate and nothing else), then one HTTP/2 server with HTTP/1.1 fallback
// that picks the certificate by SNI and serves requests with the same handlers as plain HTTP.
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { readClientHello } from '../tls/client-hello.js';

export interface HttpsOptions {
  /** The certificate for a server name (null: the client sent none). */
  contextFor(servername: string | null): tls.SecureContext;
  /** The key and certificate for clients that send no server name. */
  readonly fallback: { readonly certPem: string; readonly keyPem: string };
  /** The tls-alpn-01 challenge certificate for a name under validation, if any. */
  challengeContextFor(servername: string): tls.SecureContext | undefined;
  /** Longest wait for a ClientHello, then for the rest of the handshake. */
  readonly handshakeTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxHeadersCount: number;
}

export interface HttpsHandlers {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  clientError(error: Error, socket: Duplex): void;
}

export interface HttpsListener {
  /** What listens on the HTTPS port. */
  readonly server: net.Server;
  readonly tlsServer: http2.Http2SecureServer;
  closeIdleConnections(): void;
  closeAllConnections(): void;
}

// Mozilla's "intermediate" ciphers for TLS 1.2; TLS 1.3 suites are always on.
const CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export function createHttpsListener(options: HttpsOptions, handlers: HttpsHandlers): HttpsListener {
  const tlsServer = http2.createSecureServer({
    allowHTTP1: true,
    ALPNProtocols: ['h2', 'http/1.1'],
    minVersion: 'TLSv1.2',
    ciphers: CIPHERS,
    honorCipherOrder: true,
    cert: options.fallback.certPem,
    key: options.fallback.keyPem,
    SNICallback: (servername, done) => done(null, options.contextFor(servername)),
    handshakeTimeout: options.handshakeTimeoutMs,
  });
  // Idle HTTP/2 sessions close like idle keep-alive connections.
  tlsServer.setTimeout(options.keepAliveTimeoutMs);
  // The HTTP/1.1 fallback reads these like an http.Server does.
  Object.assign(tlsServer, {
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    maxHeadersCount: options.maxHeadersCount,
    connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs),
  });
  // It never listens itself (the front door hands it sockets), but its HTTP/1.1 fallback starts
  // the header and request timers on 'listening': slowloris must meet them over TLS too.
  tlsServer.emit('listening');
  tlsServer.on('request', handlers.request);
  tlsServer.on('upgrade', handlers.upgrade);
  tlsServer.on('clientError', handlers.clientError);
  // A handshake that fails (plain HTTP on the TLS port, a bad hello) only ends its connection.
  tlsServer.on('tlsClientError', (_error, socket) => socket.destroy());
  tlsServer.on('sessionError', () => {});

  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), options.handshakeTimeoutMs);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const hello = readClientHello(received);
      if (hello === 'incomplete') return;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.pause();
      socket.unshift(received);
      const challenge = hello !== 'invalid' && hello.serverName && hello.alpn.includes('acme-tls/1') ? options.challengeContextFor(hello.serverName) : undefined;
      if (challenge) return answerChallenge(socket, challenge);
      tlsServer.emit('connection', socket);
    };
    socket.on('data', onData);
    socket.once('close', () => clearTimeout(timer));
    socket.resume();
  });

  return {
    server,
    tlsServer,
    closeIdleConnections: () => (tlsServer as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.(),
    closeAllConnections: () => (tlsServer as unknown as { closeAllConnections?: () => void }).closeAllConnections?.(),
  };
}

/** tls-alpn-01: the validator only needs the handshake with the challenge certificate. */
function answerChallenge(socket: net.Socket, secureContext: tls.SecureContext): void {
  const secure = new tls.TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: ['acme-tls/1'] });
  secure.on('error', () => secure.destroy());
  secure.once('secure', () => secure.end());
  secure.setTimeout(10_000, () => secure.destroy());
}
