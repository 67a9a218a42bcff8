// ACME storage in Redis shared by replicas: the order lock against a real redis-server, then two
// berth processes sharing one redis-server and one Pebble. Pebble validates at one port per
// challenge type; a TCP switch in front sends every validation to the replica that did NOT order,
// so an answer only passes if it went through Redis. Pebble issues 30-second certificates, so a
// renewal comes due (at two thirds of the lifetime) while the test runs.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { ChallengeRegistry } from '../../src/acme/challenges.js';
import { RedisStorage } from '../../src/acme/redis-storage.js';
import { Codes } from '../../src/errors.js';
import { startBerth, type LogLine, type RunningBerth } from '../support/berth.js';
import { getHttps, within } from '../support/https.js';
import { Pebble } from '../support/pebble.js';
import { freeLoopbackPort } from '../support/ports.js';
import { RedisServer } from '../support/redis-server.js';
import { TcpSwitch } from '../support/tcp-switch.js';
import { waitFor } from '../support/wait.js';

const HOST = 'shared.berth.test';
const ALPN_HOST = 'alpn-shared.berth.test';
const BROKEN_HOST = 'broken-shared.berth.test';
const quiet = pino({ level: 'silent' });

interface Replica {
  readonly name: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  berth: RunningBerth;
  /** Each certificate serial the replica served for HOST, with when a handshake first saw it. */
  readonly seen: Map<string, number>;
}

/** The certificate a real, verified TLS handshake with the replica presents for `host`. */
function servedCertificate(port: number, host: string, ca: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: host, ca, timeout: 3000 }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      if (cert) resolve(cert);
      else reject(new Error('no peer certificate'));
    });
    socket.on('timeout', () => socket.destroy(new Error('handshake timed out')));
    socket.on('error', reject);
  });
}

/** The certificate presented for a name nothing covers (the default one), unverified: nobody trusts it. */
function defaultCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'nothing-covers.berth.test', rejectUnauthorized: false, timeout: 3000 }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      if (cert) resolve(cert);
      else reject(new Error('no peer certificate'));
    });
    socket.on('timeout', () => socket.destroy(new Error('handshake timed out')));
    socket.on('error', reject);
  });
}

const isOrder = (line: LogLine) => line.msg === 'ordering certificate' || line.msg === 'renewing certificate';

describe('ACME storage in Redis', () => {
  describe('the order lock against redis-server', () => {
    let redis: RedisServer;
    const stores: RedisStorage[] = [];
    const store = async (lockTtlMs = 30_000) => {
      const made = new RedisStorage({ url: redis.url, challenges: new ChallengeRegistry(), logger: quiet, lockTtlMs, connectWaitMs: 2000 });
      stores.push(made);
      await made.init();
      return made;
    };
    before(async () => {
      redis = await RedisServer.start();
    });
    after(async () => {
      for (const made of stores) await made.close();
      await redis?.stop();
    });

    it('gives a host group to one replica at a time, and release frees it for the next', async () => {
      const [a, b] = [await store(), await store()];
      const held = await a.lock('one.berth.test');
      assert.ok(held?.held);
      assert.equal(await b.lock('one.berth.test'), null);
      assert.ok(await b.lock('two.berth.test'), 'another group has its own lock');
      const ttl = Number(await redis.command('PTTL', 'berth:acme:lock:one.berth.test'));
      assert.ok(ttl > 25_000 && ttl <= 30_000, `the lock expires in ${ttl} ms`);
      assert.equal(await redis.command('GET', 'berth:acme:lock:one.berth.test'), a.id);
      await held!.release();
      assert.equal(await redis.command('EXISTS', 'berth:acme:lock:one.berth.test'), 0);
      const next = await b.lock('one.berth.test');
      assert.ok(next?.held);
      await held!.release();
      assert.equal(await redis.command('GET', 'berth:acme:lock:one.berth.test'), b.id, "a late release leaves the next holder's lock alone");
    });

    it('renews a lock while held, and a lock whose holder died expires', async () => {
      const a = await store(600);
      const b = await store(600);
      const held = await a.lock('renewed.berth.test');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.ok(held?.held, 'renewed past its 600 ms life');
      assert.equal(await b.lock('renewed.berth.test'), null);
      // The holder's connection ends without a release: its process died.
      await a.close();
      const taken = await waitFor(async () => (await b.lock('renewed.berth.test')) ?? undefined, { what: 'the dead holder\'s lock to expire', timeoutMs: 3000, intervalMs: 50 });
      assert.ok(taken.held);
    });

    it('never crashes when Redis is away: commands fail at once, and the lock is an error', async () => {
      const server = await RedisServer.start();
      const lines: { code?: string; msg: string }[] = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { code?: string; msg: string }) });
      const made = new RedisStorage({ url: server.url, challenges: new ChallengeRegistry(), logger, connectWaitMs: 2000, commandTimeoutMs: 500 });
      stores.push(made);
      await made.init();
      await server.stop();
      await waitFor(async () => lines.some((line) => line.code === Codes.acmeRedis), { what: 'the outage logged with its code', timeoutMs: 3000 });
      const started = Date.now();
      await assert.rejects(made.lock('away.berth.test'));
      await assert.rejects(made.listCertificates());
      assert.ok(Date.now() - started < 1500, 'no command waits for the server');
      assert.equal(lines.filter((line) => line.code === Codes.acmeRedis).length, 1, `logged once per outage: ${JSON.stringify(lines)}`);
    });
  });

  it('a paused Redis (the connection stays, nothing answers) is noticed by the periodic look, and its return too', async () => {
    const server = await RedisServer.start();
    const lines: { code?: string; msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { code?: string; msg: string }) });
    const made = new RedisStorage({ url: server.url, challenges: new ChallengeRegistry(), logger, connectWaitMs: 2000, commandTimeoutMs: 300, rereadMs: 200 });
    let changes = 0;
    made.onChange(() => changes++);
    try {
      await made.init();
      server.pause();
      await waitFor(async () => lines.some((line) => line.code === Codes.acmeRedis), { what: 'the stalled server logged with its code', timeoutMs: 3000, intervalMs: 50 });
      await assert.rejects(made.readHolds(), 'a command times out instead of waiting forever');
      server.resume();
      await waitFor(async () => lines.some((line) => line.msg === 'the ACME storage in Redis answers again; reading it'), { what: 'its return', timeoutMs: 3000, intervalMs: 50 });
      assert.ok(changes >= 1, 'its return has the storage read again');
      assert.equal(lines.filter((line) => line.code === Codes.acmeRedis).length, 1);
    } finally {
      await made.close();
      await server.stop();
    }
  });

  describe('two berth replicas sharing one Redis and one Pebble', () => {
    let redis: RedisServer;
    let pebble: Pebble;
    let root: string;
    let folder: string;
    let origin: http.Server;
    let httpSwitch: TcpSwitch;
    let tlsSwitch: TcpSwitch;
    const replicas: Replica[] = [];
    let polling = true;
    let poller: Promise<void> = Promise.resolve();

    /** The replica whose order began last, and the other one: the CA's validations go to the other. */
    const lastOrderer = (): Replica | undefined => {
      let best: { replica: Replica; time: number } | undefined;
      for (const replica of replicas) {
        for (const line of replica.berth?.logs ?? []) {
          if (isOrder(line) && (!best || Number(line['time']) >= best.time)) best = { replica, time: Number(line['time']) };
        }
      }
      return best?.replica;
    };
    /** While set, the switches refuse every validation: orders fail. */
    let refuse = false;
    const notOrdering = (port: (replica: Replica) => number) => () => {
      if (refuse) return null;
      const orderer = lastOrderer();
      const other = orderer && replicas.find((replica) => replica !== orderer);
      return other ? { name: other.name, port: port(other) } : null;
    };
    const orders = () => replicas.flatMap((replica) => replica.berth.logs.filter(isOrder).map((line) => ({ replica: replica.name, msg: line.msg, time: Number(line['time']) })));
    const issuedAtPebble = async () => ((await pebble.log()).match(/Issued certificate serial/g) ?? []).length;

    before(async () => {
      redis = await RedisServer.start();
      httpSwitch = await TcpSwitch.start(notOrdering((replica) => replica.httpPort));
      tlsSwitch = await TcpSwitch.start(notOrdering((replica) => replica.httpsPort));
      pebble = await Pebble.start({ httpPort: httpSwitch.port, tlsPort: tlsSwitch.port, certificateValiditySeconds: 30 });
      root = await pebble.root();
      origin = http.createServer((_req, res) => res.end('shared'));
      await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
      folder = await mkdtemp(join(tmpdir(), 'berth-acme-redis-'));
      // No route yet: the test adds it once both replicas run, so both want it at the same moment.
      await writeFile(join(folder, 'routes.yml'), 'routes: []\n');
      // Four distinct ports: a port just freed may be handed out twice.
      const ports = new Set<number>();
      while (ports.size < 4) ports.add(await freeLoopbackPort());
      const [aHttp, aHttps, bHttp, bHttps] = [...ports] as [number, number, number, number];
      replicas.push({ name: 'a', httpPort: aHttp, httpsPort: aHttps, berth: undefined as unknown as RunningBerth, seen: new Map() });
      replicas.push({ name: 'b', httpPort: bHttp, httpsPort: bHttps, berth: undefined as unknown as RunningBerth, seen: new Map() });
    });
    after(async () => {
      if (process.env['BERTH_TEST_DUMP']) for (const replica of replicas) console.log(replica.name, replica.berth?.logs.map((line) => JSON.stringify(line)).join('\n'));
      polling = false;
      await poller;
      for (const replica of replicas) await replica.berth?.stop();
      await pebble?.stop();
      await httpSwitch?.close();
      await tlsSwitch?.close();
      await redis?.stop();
      origin?.close();
      if (folder) await rm(folder, { recursive: true, force: true });
    });

    const args = (replica: Replica) => [
      '--no-docker',
      '--routes-file', join(folder, 'routes.yml'),
      '--http-port', String(replica.httpPort),
      '--https-port', String(replica.httpsPort),
      ...pebble.berthArgs(redis.url),
    ];
    const routesFor = (hosts: string[]) => ['routes:', ...hosts.flatMap((host) => [`  - host: ${host}`, `    to: http://127.0.0.1:${(origin.address() as AddressInfo).port}`, '    tls: true'])].join('\n') + '\n';
    const startReplicas = async (extra: string[]) => {
      const started = await Promise.all(replicas.map((replica) => startBerth([...args(replica), ...extra], pebble.berthEnv())));
      started.forEach((berth, i) => (replicas[i]!.berth = berth));
      await waitFor(async () => started.every((berth) => berth.logs.some((line) => line.msg === 'first sync of every source done; ready')), { what: 'both replicas ready' });
    };

    it('both want the same host at once: one order, and both serve the same certificate over HTTPS', async () => {
      await startReplicas([]);
      // Both follow the routes file: each wants HOST within milliseconds of the other.
      await writeFile(join(folder, 'routes.yml'), routesFor([HOST]));
      // Every 25 ms, a real handshake with each replica: when each serial was first served.
      poller = (async () => {
        while (polling) {
          await Promise.all(
            replicas.map(async (replica) => {
              const cert = await servedCertificate(replica.httpsPort, HOST, root).catch(() => null);
              if (cert && !replica.seen.has(cert.serialNumber)) replica.seen.set(cert.serialNumber, Date.now());
            }),
          );
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      })();

      const [a, b] = replicas as [Replica, Replica];
      const served = await waitFor(async () => (a.seen.size > 0 && b.seen.size > 0 ? true : undefined), { what: 'both replicas serving a Pebble certificate', timeoutMs: 30_000, intervalMs: 50 });
      assert.ok(served);
      const [certA, certB] = await Promise.all([servedCertificate(a.httpsPort, HOST, root), servedCertificate(b.httpsPort, HOST, root)]);
      assert.equal(certA.fingerprint256, certB.fingerprint256, 'the same certificate on both');
      assert.ok(certA.checkHost(HOST));
      for (const replica of replicas) assert.equal((await getHttps(replica.httpsPort, HOST, root)).body, 'shared');

      // Exactly one order, by berth's logs and by Pebble's.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const placed = orders();
      assert.equal(placed.length, 1, `orders: ${JSON.stringify(placed)}`);
      assert.equal(await issuedAtPebble(), 1, 'Pebble issued one certificate');
      const orderer = replicas.find((replica) => replica.name === placed[0]!.replica)!;
      const other = replicas.find((replica) => replica !== orderer)!;
      assert.ok(
        other.berth.logs.some((line) => line.msg === 'another replica is ordering this certificate; waiting for it'),
        'the other replica wanted it too, found the lock taken and waited',
      );
      assert.ok(!other.berth.logs.some((line) => line.msg === 'ACME account registered'), 'one account, registered by the orderer');
      const [defaultA, defaultB] = await Promise.all([defaultCertificate(a.httpsPort), defaultCertificate(b.httpsPort)]);
      assert.equal(defaultA.subject, 'CN=berth-default');
      assert.equal(defaultA.fingerprint256, defaultB.fingerprint256, 'one default certificate, kept in Redis, on both');

      // The CA validated http-01 at the replica that did not order, which answered from Redis.
      assert.ok(httpSwitch.connections.length >= 1, 'Pebble validated over http-01');
      for (const connection of httpSwitch.connections) {
        assert.equal(connection.target, other.name);
        assert.match(connection.firstLine, /^HTTP\/1\.1 200 /);
      }

      const issued = orderer.berth.logs.find((line) => line.msg === 'certificate issued')!;
      const lag = other.seen.get(certA.serialNumber)! - Number(issued['time']);
      console.log(`one order by replica ${orderer.name}; replica ${other.name} served serial ${certA.serialNumber} ${lag} ms after replica ${orderer.name} logged it issued`);
      assert.ok(lag < 3000, `the other replica served it ${lag} ms after it was issued`);
    });

    it('a renewal by one replica reaches the other within seconds, and only one replica renews', async () => {
      const [a, b] = replicas as [Replica, Replica];
      const first = [...a.seen.keys()][0]!;
      const renewed = await waitFor(async () => [...a.seen.keys()].find((serial) => serial !== first && b.seen.has(serial)), { what: 'a renewed certificate served by both', timeoutMs: 35_000, intervalMs: 50 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const renewals = orders().filter((order) => order.msg === 'renewing certificate');
      assert.equal(renewals.length, 1, `renewals: ${JSON.stringify(renewals)}`);
      assert.equal(await issuedAtPebble(), 2);
      const renewer = replicas.find((replica) => replica.name === renewals[0]!.replica)!;
      const other = replicas.find((replica) => replica !== renewer)!;
      const issued = renewer.berth.logs.filter((line) => line.msg === 'certificate issued').at(-1)!;
      assert.equal(String(issued['serial']).toUpperCase(), renewed.toUpperCase());
      const lag = other.seen.get(renewed)! - Number(issued['time']);
      console.log(`renewal by replica ${renewer.name}; replica ${other.name} served serial ${renewed} ${lag} ms after it was issued`);
      assert.ok(lag < 3000, `the other replica served the renewal ${lag} ms after it was issued`);
      for (const connection of httpSwitch.connections) assert.match(connection.firstLine, /^HTTP\/1\.1 200 /);
    });

    it('tls-alpn-01 across replicas: the one that did not order answers with the challenge certificate from Redis, and restarts order nothing they stored', async () => {
      for (const replica of replicas) await replica.berth.stop();
      const httpBefore = httpSwitch.connections.length;
      await startReplicas(['--acme-challenges', 'tls-alpn-01']);
      await writeFile(join(folder, 'routes.yml'), routesFor([HOST, ALPN_HOST]));
      for (const replica of replicas) {
        const { value } = await within(30_000, () => servedCertificate(replica.httpsPort, ALPN_HOST, root));
        assert.ok(value.checkHost(ALPN_HOST));
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      const placed = orders();
      assert.equal(placed.length, 1, `only the new host is ordered, once: ${JSON.stringify(placed)}`);
      const orderer = replicas.find((replica) => replica.name === placed[0]!.replica)!;
      const other = replicas.find((replica) => replica !== orderer)!;
      assert.ok(tlsSwitch.connections.length >= 1, 'Pebble validated over tls-alpn-01');
      for (const connection of tlsSwitch.connections) assert.equal(connection.target, other.name);
      assert.equal(httpSwitch.connections.length, httpBefore, 'no http-01 this time');
      assert.ok(orderer.berth.logs.some((line) => line.msg === 'certificate issued' && (line['hosts'] as string[]).includes(ALPN_HOST)));
    });

    it('a failed order\'s hold is shared: the other replica does not try the host until the hold ends', async () => {
      refuse = true;
      try {
        await writeFile(join(folder, 'routes.yml'), routesFor([HOST, ALPN_HOST, BROKEN_HOST]));
        type Status = { host: string; lastError: { code: string } | null; nextTryAt: string | null };
        const statusOf = async (replica: Replica) => (await replica.berth.admin<{ certificates: Status[] }>('/api/certificates')).certificates.find((s) => s.host === BROKEN_HOST);
        const failed = await waitFor(
          async () => {
            const [a, b] = await Promise.all(replicas.map(statusOf));
            return a?.lastError && b?.lastError ? [a, b] : undefined;
          },
          { what: 'both replicas showing the failed order', timeoutMs: 20_000, intervalMs: 100 },
        );
        await new Promise((resolve) => setTimeout(resolve, 500));
        const tries = replicas.flatMap((replica) => replica.berth.logs.filter((line) => isOrder(line) && (line['hosts'] as string[]).includes(BROKEN_HOST)).map(() => replica.name));
        assert.equal(tries.length, 1, `one attempt at ${BROKEN_HOST} for both replicas: ${JSON.stringify(tries)}`);
        assert.equal(failed[0]!.lastError!.code, Codes.acmeOrder);
        assert.equal(failed[0]!.nextTryAt, failed[1]!.nextTryAt, 'the same stored hold on both');
        assert.ok(Date.parse(failed[0]!.nextTryAt!) - Date.now() > 4 * 60_000);
      } finally {
        refuse = false;
      }
    });

    it('Redis stopped: both keep serving the loaded certificate over HTTPS, log the code, and read Redis again on its return', async () => {
      const [a, b] = replicas as [Replica, Replica];
      const before = await servedCertificate(a.httpsPort, HOST, root);
      await redis.kill();
      await waitFor(async () => replicas.every((replica) => replica.berth.logs.some((line) => line.code === Codes.acmeRedis)), { what: 'both replicas logging BERTH_E_ACME_REDIS', timeoutMs: 5000 });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      for (const replica of [a, b]) {
        const cert = await servedCertificate(replica.httpsPort, HOST, root);
        assert.equal(cert.fingerprint256, before.fingerprint256, `replica ${replica.name} serves the loaded certificate`);
        assert.equal((await getHttps(replica.httpsPort, HOST, root)).status, 200);
        // Alive: a signal 0 reaches it.
        assert.doesNotThrow(() => process.kill(replica.berth.pid, 0));
      }
      await redis.restart();
      await waitFor(async () => replicas.every((replica) => replica.berth.logs.some((line) => line.msg === 'the ACME storage in Redis answers again; reading it')), {
        what: 'both replicas reconnecting',
        timeoutMs: 10_000,
      });
      // The restarted Redis is empty: what was loaded stays served.
      const { value } = await within(2000, () => servedCertificate(b.httpsPort, HOST, root));
      assert.equal(value.fingerprint256, before.fingerprint256);
    });
  });
});
