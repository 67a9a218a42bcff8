// The HTTPS listener: a front door that reads each ClientHello first (ALPN acme-tls/1 gets the
// ACME challenge certificate and nothing else), then an HTTP/2 server with HTTP/1.1 fallback that
// picks the certificate by SNI (a second one serves clients without SNI the default certificate),
// both serving requests with the same handlers as plain HTTP.
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { tlsServerOptions } from '../certs/index.js';
import { readClientHello } from '../tls/client-hello.js';

export interface HttpsOptions {
  /** The certificate for a server name (undefined: the client sent none). */
  contextFor(servername: string | undefined): tls.SecureContext;
  /** The default certificate, for clients that send no server name. */
  fallback(): { readonly certPem: string; readonly keyPem: string };
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
  checkContinue(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  clientError(error: Error, socket: Duplex): void;
}

export interface HttpsListener {
  /** What listens on the HTTPS port. */
  readonly server: net.Server;
  /** Closes the TLS servers behind the front door (the front door closes with `server`). */
  close(): void;
  closeIdleConnections(): void;
  closeAllConnections(): void;
}

const ALPN = ['h2', 'http/1.1'];

export function createHttpsListener(options: HttpsOptions, handlers: HttpsHandlers): HttpsListener {
  // No certificate of its own: beside an SNI one of another key type, OpenSSL may serve it instead
  // (nodejs/node#54235). Clients without SNI go to a second server that holds only the default.
  const tlsServer = tlsServerFor(options, handlers, {
    SNICallback: (servername, done) => {
      let context: tls.SecureContext;
      try {
        context = options.contextFor(servername);
      } catch (error) {
        return done(error as Error);
      }
      done(null, context);
    },
  });
  let withoutSni: http2.Http2SecureServer | null = null;
  const sessions = new Set<http2.ServerHttp2Session>();
  const track = (each: http2.Http2SecureServer) =>
    each.on('session', (session: http2.ServerHttp2Session) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
    });
  track(tlsServer);
  const servers = () => (withoutSni ? [tlsServer, withoutSni] : [tlsServer]);
  const handshakeWithoutSni = (socket: net.Socket) => {
    if (!withoutSni) {
      const fallback = options.fallback();
      withoutSni = tlsServerFor(options, handlers, { cert: fallback.certPem, key: fallback.keyPem });
      track(withoutSni);
    }
    withoutSni.emit('connection', socket);
  };

  // Every connection, to end them all at the end of a graceful stop (TLS servers that never
  // listened themselves track none).
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
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
      // Not one berth could read: plain HTTP gets told; anything else is OpenSSL's to judge.
      if (hello === 'invalid') return looksLikeHttp(received) ? refuseNonTls(socket) : void tlsServer.emit('connection', socket);
      // Certificates are built here, in a socket callback: one that cannot be must end this connection, not the process.
      try {
        const challenge = hello.serverName && hello.alpn.includes('acme-tls/1') ? options.challengeContextFor(hello.serverName) : undefined;
        if (challenge) return answerChallenge(socket, challenge);
        if (hello.serverName === null) return handshakeWithoutSni(socket);
      } catch {
        return void socket.destroy();
      }
      tlsServer.emit('connection', socket);
    };
    socket.on('data', onData);
    socket.once('close', () => clearTimeout(timer));
    socket.resume();
  });

  type Closing = { closeIdleConnections?: () => void };
  return {
    server,
    close: () => servers().forEach((each) => each.close()),
    closeIdleConnections: () => {
      for (const each of servers()) (each as unknown as Closing).closeIdleConnections?.();
      // HTTP/2: GOAWAY, so streams under way finish and no new ones start.
      for (const session of sessions) session.close();
    },
    closeAllConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** One HTTP/2 server with HTTP/1.1 fallback, fed sockets by the front door, on berth's handlers. */
function tlsServerFor(options: HttpsOptions, handlers: HttpsHandlers, certificates: Pick<http2.SecureServerOptions, 'SNICallback' | 'cert' | 'key'>): http2.Http2SecureServer {
  const tlsServer = http2.createSecureServer({
    ...tlsServerOptions(),
    ...certificates,
    allowHTTP1: true,
    ALPNProtocols: ALPN,
    handshakeTimeout: options.handshakeTimeoutMs,
  });
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
  tlsServer.on('checkContinue', handlers.checkContinue);
  tlsServer.on('upgrade', handlers.upgrade);
  tlsServer.on('clientError', handlers.clientError);
  // A handshake that fails only ends its connection.
  tlsServer.on('tlsClientError', (_error, socket) => socket.destroy());
  tlsServer.on('sessionError', () => {});
  // An HTTP/2 connection with no frames either way for the idle time is closed gracefully (GOAWAY:
  // streams under way finish), as an idle HTTP/1.1 keep-alive connection is.
  tlsServer.on('session', (session: http2.ServerHttp2Session) => session.setTimeout(options.keepAliveTimeoutMs, () => session.close()));
  return tlsServer;
}

/** Plain HTTP sent to the HTTPS port gets a plain answer that says so, as nginx's 497 does. */
function refuseNonTls(socket: net.Socket): void {
  const body = 'This is an HTTPS port: use https://.\n';
  socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
}

function looksLikeHttp(received: Buffer): boolean {
  return /^[A-Z]{3,10} /.test(received.toString('latin1', 0, 11));
}

/** tls-alpn-01: the validator only needs the handshake with the challenge certificate. */
function answerChallenge(socket: net.Socket, secureContext: tls.SecureContext): void {
  const secure = new tls.TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: ['acme-tls/1'] });
  secure.on('error', () => secure.destroy());
  secure.once('secure', () => secure.end());
  secure.setTimeout(10_000, () => secure.destroy());
}
