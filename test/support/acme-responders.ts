// The two ACME challenge responders a test runs beside Pebble, reading a ChallengeRegistry the
// way berth's listeners do: http-01 on an HTTP server, tls-alpn-01 on a TLS server that offers
// only acme-tls/1 and picks the challenge certificate by SNI.
import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { ACME_TLS_ALPN, type ChallengeRegistry } from '../../src/acme/challenges.js';

export class AcmeResponders {
  /** Hosts the responders act as if they did not serve (a failing validation). */
  readonly refuse = new Set<string>();
  readonly hits = { http01: [] as string[], tlsAlpn01: [] as string[] };

  private constructor(
    private readonly http: HttpServer,
    private readonly tls: TlsServer,
  ) {}

  static async start(registry: ChallengeRegistry): Promise<AcmeResponders> {
    let responders: AcmeResponders | undefined;
    const http = createHttpServer((req, res) => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      const answer = responders!.refuse.has(host) ? undefined : registry.http01ForPath(req.url ?? '');
      if (answer !== undefined) responders!.hits.http01.push(host);
      res.writeHead(answer === undefined ? 404 : 200, { 'content-type': 'text/plain' }).end(answer ?? 'no such challenge');
    });
    const tls = createTlsServer({
      ALPNProtocols: [ACME_TLS_ALPN],
      SNICallback: (servername, done) => {
        const cert = responders!.refuse.has(servername) ? undefined : registry.tlsAlpn01(servername);
        if (!cert) return done(new Error(`no tls-alpn-01 challenge for ${servername}`));
        responders!.hits.tlsAlpn01.push(servername);
        done(null, createSecureContext({ cert: cert.certPem, key: cert.keyPem }));
      },
    });
    tls.on('tlsClientError', () => {}); // a refused handshake is the point of a failing test
    http.listen(0, '127.0.0.1');
    tls.listen(0, '127.0.0.1');
    await Promise.all([once(http, 'listening'), once(tls, 'listening')]);
    responders = new AcmeResponders(http, tls);
    return responders;
  }

  get httpPort(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get tlsPort(): number {
    return (this.tls.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.http.closeAllConnections();
    await Promise.all([new Promise((resolve) => this.http.close(resolve)), new Promise((resolve) => this.tls.close(resolve))]);
  }
}
