// HTTPS: the throughput bench's wrk load (one thread, 64 connections, keep-alive and a new
// connection per request) over TLS, through nginx, HAProxy, Caddy and berth, each terminating TLS
// with the same certificate (made for this run) and forwarding to the same origin over plain HTTP,
// in interleaved rounds. Ratios are to nginx and to Caddy, measured in the same run; a first row,
// one nginx worker answering by itself over TLS, shows what TLS alone costs here. Every peer
// is configured not to resume sessions, and that is checked: a new connection is a full handshake.
// wrk speaks HTTP/1.1 only and sends no ALPN, so this is HTTP/1.1 over TLS 1.3 for every peer.
import type { Benchmark, BenchContext, TargetResult } from './benchmark.js';
import { berthHttpsName, berthHttpsWorkers, startBerthHttps, startCaddyHttps, startHaproxyHttps, startNginxHttps, startTlsCeiling, type HttpsStarter } from './peers/https.js';
import { ensurePeerPrograms } from './peers/install.js';
import { startOrigin } from './peers/origin.js';
import type { Peer } from './peers/peer.js';
import { markdownTable, ms, ratio } from './table.js';
import { CONNECTIONS, measureAll, VARIANTS } from './throughput.js';
import { makeBenchCertificate, TLS_APP_HOST, tlsFacts, TLS_URL_HOST, type TlsFacts } from './tls.js';

const PEERS: readonly HttpsStarter[] = [startTlsCeiling, startNginxHttps, startHaproxyHttps, startCaddyHttps, startBerthHttps, berthHttpsWorkers(2)];
// Caddy and nginx use every core: the targets compare berth on two workers.
const BERTH_2 = berthHttpsName(2);

export const httpsBench: Benchmark = {
  name: 'https',
  title: `HTTPS on loopback vs the peers (wrk, 1 thread, ${CONNECTIONS} connections, TLS terminated by the proxy)`,
  docker: false,
  async run(context: BenchContext): Promise<TargetResult[]> {
    const timing = context.quick ? { rounds: 1, warmup: 1, seconds: 3 } : { rounds: 3, warmup: 2, seconds: 6 };
    await ensurePeerPrograms();
    const certificate = await makeBenchCertificate(context.dir);
    const origin = await startOrigin(context.dir);
    const setup = { originPort: origin.port, dir: context.dir, certificate };
    const peers: Peer[] = [];
    for (const start of PEERS) peers.push(await start(setup));

    console.log(
      `One self-signed EC P-256 certificate for ${TLS_APP_HOST} and ${TLS_URL_HOST}, made for this run. wrk connects to https://${TLS_URL_HOST}:<port>/ ` +
        `(its SNI is the URL host) with Host: ${TLS_APP_HOST}. Checked before the load, with two handshakes per peer (the second offering the first's session):\n`,
    );
    const facts = new Map<string, TlsFacts>();
    for (const peer of peers) facts.set(peer.name, await tlsFacts(peer.port, certificate));
    console.log(
      markdownTable(
        ['peer', 'certificate served', 'protocol', 'session resumed'],
        peers.map((peer) => {
          const f = facts.get(peer.name)!;
          return [peer.name, f.servedBenchCertificate ? `the run's (${TLS_APP_HOST})` : '**another**', f.protocol, f.resumed ? '**yes**' : 'no (full handshake)'];
        }),
      ),
    );

    console.log(`\n${timing.rounds} round(s) of ${timing.seconds} s per peer and variant, after a ${timing.warmup} s warm-up; medians over rounds.`);
    const measured = await measureAll(peers, timing, { host: TLS_APP_HOST, tlsHost: TLS_URL_HOST });
    for (const peer of [...peers, origin]) await peer.stop();

    for (const variant of VARIANTS) {
      const nginx = measured('nginx', variant.newConnections);
      const caddy = measured('Caddy', variant.newConnections);
      console.log(`\n${variant.label}: ratios are to nginx and to Caddy, measured in this run; the first row proxies nothing (TLS alone, for reference).\n`);
      console.log(
        markdownTable(
          ['target', 'req/s', 'x nginx', 'x Caddy', 'p50', 'p99', 'failed'],
          peers.map((peer) => {
            const m = measured(peer.name, variant.newConnections);
            return [peer.name, m.rps.toFixed(0), ratio(m.rps / nginx.rps), ratio(m.rps / caddy.rps), ms(m.p50), ms(m.p99), String(m.failures)];
          }),
        ),
      );
    }

    const versus = (newConnections: boolean) => measured(BERTH_2, newConnections).rps / measured('Caddy', newConnections).rps;
    const failures = peers.reduce((sum, peer) => sum + measured(peer.name, false).failures + measured(peer.name, true).failures, 0);
    const berthFailures = [berthHttpsName(1), BERTH_2].reduce((sum, name) => sum + measured(name, false).failures + measured(name, true).failures, 0);
    return [
      { target: 'berth --workers 2 HTTPS keep-alive >= 1.0x Caddy (same certificate)', measured: `${ratio(versus(false))} keep-alive`, met: versus(false) >= 1.0 },
      { target: 'berth --workers 2 new TLS connections per second (full handshakes) >= 1.0x Caddy', measured: `${ratio(versus(true))} new connections`, met: versus(true) >= 1.0 },
      { target: '0 failed HTTPS requests through berth', measured: `${berthFailures} (all peers: ${failures})`, met: berthFailures === 0 },
    ];
  },
};
