// ACME against a real Pebble on loopback: issuance over http-01 and tls-alpn-01, reuse of the
// storage after a restart, renewal, a failing order's stored hold, and hosts no longer wanted.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import * as acme from 'acme-client';
import { pino } from 'pino';
import { ChallengeRegistry } from '../../src/acme/challenges.js';
import { AcmeManager, type ChallengeType } from '../../src/acme/manager.js';
import { groupKey } from '../../src/acme/schedule.js';
import type { CertificateEntry } from '../../src/certs/types.js';
import { Codes } from '../../src/errors.js';
import { systemClock, type Clock } from '../../src/util/clock.js';
import { AcmeResponders } from '../support/acme-responders.js';
import { Pebble } from '../support/pebble.js';
import { waitFor } from '../support/wait.js';

interface LogLine {
  level: number;
  msg: string;
  code?: string;
  hosts?: string[];
}

let pebble: Pebble;
let responders: AcmeResponders;
let root: X509Certificate;
const registry = new ChallengeRegistry();
const dirs: string[] = [];

/** A clock that can be moved ahead of the real one. */
class OffsetClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  setTimeout(fn: () => void, ms: number) {
    return systemClock.setTimeout(fn, ms);
  }
}

async function storageDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-acme-'));
  dirs.push(dir);
  return join(dir, 'acme'); // not there yet: the manager creates it
}

function manager(storage: string, options: { challengeOrder?: ChallengeType[]; clock?: Clock } = {}) {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  const acmeManager = new AcmeManager({
    directoryUrl: pebble.directoryUrl,
    email: 'ops@berth.test',
    storageDir: storage,
    challenges: registry,
    logger,
    poll: { attempts: 20, minMs: 100, maxMs: 1000 },
    ...options,
  });
  const orders = () => lines.filter((line) => line.msg === 'ordering certificate' || line.msg === 'renewing certificate');
  return { acme: acmeManager, lines, orders };
}

function entryFor(source: { entries: readonly CertificateEntry[] }, host: string): CertificateEntry | undefined {
  return source.entries.find((entry) => entry.names.includes(host));
}

function waitForEntry(source: { entries: readonly CertificateEntry[] }, host: string, what = `a certificate for ${host}`): Promise<CertificateEntry> {
  return waitFor(async () => entryFor(source, host), { what, timeoutMs: 30_000 });
}

/** Serves the entry and connects to it as a client trusting only Pebble's root: the chain and the name must verify. */
async function assertServesVerified(entry: CertificateEntry, host: string): Promise<void> {
  const server = createServer({ cert: entry.certPem, key: entry.keyPem });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const peer = await new Promise<X509Certificate>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, servername: host, ca: root.toString() }, () => {
        const cert = socket.getPeerX509Certificate();
        socket.end();
        if (cert) resolve(cert);
        else reject(new Error('no peer certificate'));
      });
      socket.on('error', reject);
    });
    assert.ok(peer.checkHost(host), `the certificate names ${host}`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

before(async () => {
  responders = await AcmeResponders.start(registry);
  pebble = await Pebble.start({ httpPort: responders.httpPort, tlsPort: responders.tlsPort });
  // acme-client speaks through its own axios instance: trust Pebble's API CA, use no proxy.
  acme.axios.defaults.httpsAgent = pebble.agent;
  acme.axios.defaults.proxy = false;
  root = new X509Certificate(await pebble.root());
});

after(async () => {
  await responders?.stop();
  await pebble?.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('ACME against Pebble', () => {
  it('issues over http-01, stores it privately, and a restart orders nothing', async () => {
    const storage = await storageDir();
    const first = manager(storage);
    let changes = 0;
    first.acme.onChange(() => changes++);
    await first.acme.start();
    first.acme.want([['web.berth.test', 'www.berth.test']]);
    const entry = await waitForEntry(first.acme, 'www.berth.test');
    await first.acme.stop();

    assert.equal(entry.source, 'acme');
    assert.deepEqual([...entry.names].sort(), ['web.berth.test', 'www.berth.test']);
    assert.ok(responders.hits.http01.includes('web.berth.test') && responders.hits.http01.includes('www.berth.test'));
    assert.equal(changes, 1);
    await assertServesVerified(entry, 'web.berth.test');
    const status = first.acme.statuses().find((s) => s.host === 'web.berth.test');
    assert.equal(status?.source, 'acme');
    assert.equal(status?.notAfter, entry.notAfter.toISOString());
    assert.equal(status?.lastError, null);

    // Private files, whole folders.
    const folder = join(storage, 'certificates', groupKey(['web.berth.test', 'www.berth.test']));
    assert.equal(entry.origin, folder);
    assert.equal(statSync(storage).mode & 0o777, 0o700);
    assert.equal(statSync(folder).mode & 0o777, 0o700);
    for (const file of ['cert.pem', 'key.pem', 'meta.json']) assert.equal(statSync(join(folder, file)).mode & 0o777, 0o600, file);
    const meta = JSON.parse(await readFile(join(folder, 'meta.json'), 'utf8')) as { names: string[]; directoryUrl: string; notAfter: string; lastOrder: { reason: string } };
    assert.deepEqual(meta.names, ['web.berth.test', 'www.berth.test']);
    assert.equal(meta.directoryUrl, pebble.directoryUrl);
    assert.equal(meta.lastOrder.reason, 'new');
    assert.deepEqual(await readdir(join(storage, 'holds')), []);
    const [account] = await readdir(join(storage, 'accounts'));
    assert.ok(account);
    assert.equal(statSync(join(storage, 'accounts', account, 'key.pem')).mode & 0o777, 0o600);

    // A new manager on the same storage serves the stored certificate and orders nothing.
    const second = manager(storage);
    await second.acme.start();
    second.acme.want([['web.berth.test', 'www.berth.test']]);
    assert.equal(entryFor(second.acme, 'web.berth.test')?.certPem, entry.certPem);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await second.acme.stop();
    assert.deepEqual(second.orders(), []);
    assert.ok(!second.lines.some((line) => line.msg === 'ACME account registered'), 'the stored account is reused');
  });

  it('issues over tls-alpn-01', async () => {
    const m = manager(await storageDir(), { challengeOrder: ['tls-alpn-01'] });
    await m.acme.start();
    m.acme.want([['alpn.berth.test']]);
    const entry = await waitForEntry(m.acme, 'alpn.berth.test');
    await m.acme.stop();
    assert.ok(responders.hits.tlsAlpn01.includes('alpn.berth.test'));
    assert.ok(!responders.hits.http01.includes('alpn.berth.test'));
    await assertServesVerified(entry, 'alpn.berth.test');
    assert.equal(registry.tlsAlpn01('alpn.berth.test'), undefined, 'the challenge certificate is gone after the order');
  });

  it('renews a stored certificate once a third of its lifetime is left, and once only', async () => {
    const storage = await storageDir();
    const first = manager(storage);
    await first.acme.start();
    first.acme.want([['renew.berth.test']]);
    const old = await waitForEntry(first.acme, 'renew.berth.test');
    await first.acme.stop();

    // A clock just past the stored certificate's renewal time.
    const clock = new OffsetClock();
    const lifetime = old.notAfter.getTime() - old.notBefore.getTime();
    clock.offsetMs = old.notAfter.getTime() - lifetime / 3 - Date.now() + 60_000;
    const second = manager(storage, { clock });
    await second.acme.start();
    second.acme.want([['renew.berth.test']]);
    assert.equal(entryFor(second.acme, 'renew.berth.test')?.certPem, old.certPem, 'the old certificate is served until the new one is in');
    const renewed = await waitFor(
      async () => {
        const entry = entryFor(second.acme, 'renew.berth.test');
        return entry && entry.certPem !== old.certPem ? entry : undefined;
      },
      { what: 'the renewed certificate', timeoutMs: 30_000 },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await second.acme.stop();

    await assertServesVerified(renewed, 'renew.berth.test');
    const meta = JSON.parse(await readFile(join(storage, 'certificates', 'renew.berth.test', 'meta.json'), 'utf8')) as { lastOrder: { reason: string } };
    assert.equal(meta.lastOrder.reason, 'renew');
    // By this clock the new certificate is due on arrival too: it is held, not renewed in a loop.
    assert.deepEqual(second.orders().map((line) => line.msg), ['renewing certificate']);
    const status = second.acme.statuses()[0];
    assert.match(status?.lastError?.message ?? '', /due for renewal already .* is the clock right\?/);
    assert.equal(status?.notAfter, renewed.notAfter.toISOString());
  });

  it('backs off a failing order, and the hold outlives a restart', async () => {
    const storage = await storageDir();
    responders.refuse.add('broken.berth.test');
    try {
      const first = manager(storage);
      await first.acme.start();
      first.acme.want([['broken.berth.test']]);
      const status = await waitFor(async () => first.acme.statuses().find((s) => s.host === 'broken.berth.test' && s.lastError !== null), {
        what: 'the failed order',
        timeoutMs: 30_000,
      });
      await first.acme.stop();
      assert.equal(status.source, 'none');
      assert.equal(status.lastError?.code, Codes.acmeOrder);
      const waitMs = Date.parse(status.nextTryAt!) - Date.now();
      assert.ok(waitMs > 4 * 60_000 && waitMs <= 5.5 * 60_000, `next try in ${waitMs} ms`);
      assert.equal(first.orders().length, 1);
      const logged = first.lines.find((line) => line.code === Codes.acmeOrder);
      assert.ok(logged && logged.level >= 50, 'the failure is logged as an error with its code');
      assert.ok(first.acme.problems.some((problem) => problem.code === Codes.acmeOrder));
      assert.ok(existsSync(join(storage, 'holds', 'broken.berth.test.json')));

      const second = manager(storage);
      await second.acme.start();
      second.acme.want([['broken.berth.test']]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(second.orders(), [], 'no new order before the stored hold ends');
      assert.equal(second.acme.statuses()[0]?.nextTryAt, status.nextTryAt);
      await second.acme.stop();
    } finally {
      responders.refuse.delete('broken.berth.test');
    }
  });

  it('never orders a host dropped from want, and keeps the files of hosts no longer wanted', async () => {
    const storage = await storageDir();
    const m = manager(storage);
    await m.acme.start();
    m.acme.want([['kept.berth.test']]);
    await waitForEntry(m.acme, 'kept.berth.test');

    // While the first of two orders runs, the second host goes away.
    const unsubscribe = registry.onChange(() => {
      if (registry.snapshot().http01 && Object.keys(registry.snapshot().http01).length > 0) {
        unsubscribe();
        m.acme.want([['kept.berth.test'], ['first.berth.test']]);
      }
    });
    m.acme.want([['kept.berth.test'], ['first.berth.test'], ['second.berth.test']]);
    await waitForEntry(m.acme, 'first.berth.test');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(m.orders().flatMap((line) => line.hosts ?? []), ['kept.berth.test', 'first.berth.test']);
    assert.ok(!m.acme.statuses().some((s) => s.host === 'second.berth.test'));

    m.acme.want([]);
    assert.deepEqual(m.acme.entries, [], 'no entries for hosts no longer wanted');
    await m.acme.stop();
    assert.ok(existsSync(join(storage, 'certificates', 'kept.berth.test', 'cert.pem')), 'their files stay');
    assert.ok(!existsSync(join(storage, 'certificates', 'second.berth.test')));
  });
});
