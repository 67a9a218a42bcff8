import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as acme from 'acme-client';
import { ChallengeRegistry } from '../../src/acme/challenges.js';
import { acmeDirectoryUrl, LETS_ENCRYPT_PRODUCTION, LETS_ENCRYPT_STAGING } from '../../src/acme/manager.js';
import { beginAttempt } from '../../src/acme/schedule.js';
import { AcmeStorage, slugOfUrl, writeAtomic } from '../../src/acme/storage.js';
import { BerthError, Codes } from '../../src/errors.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
async function fresh(): Promise<AcmeStorage> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-acme-unit-'));
  dirs.push(dir);
  const storage = new AcmeStorage(join(dir, 'store'));
  await storage.init();
  return storage;
}
const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** A self-signed certificate for names, and its key (what a CA would hand back, for storage's sake). */
async function selfSigned(name: string): Promise<{ certPem: string; keyPem: string }> {
  const [keyPem, certPem] = await acme.crypto.createAlpnCertificate(
    { identifier: { type: 'dns', value: name }, status: 'pending', expires: '', challenges: [], url: '' },
    'token.thumbprint',
  );
  return { certPem: certPem.toString(), keyPem: keyPem.toString() };
}

describe('AcmeStorage', () => {
  it('makes private folders and files, and writes over a file by rename', async () => {
    const storage = await fresh();
    assert.equal(await mode(storage.root), 0o700);
    for (const sub of ['accounts', 'certificates', 'holds']) assert.equal(await mode(join(storage.root, sub)), 0o700);
    await storage.writeAccountKey('https://ca.test/dir', 'KEY');
    await storage.writeAccountUrl('https://ca.test/dir', 'https://ca.test/acct/1', null);
    const accountDir = join(storage.root, 'accounts', slugOfUrl('https://ca.test/dir'));
    assert.equal(await mode(join(accountDir, 'key.pem')), 0o600);
    assert.deepEqual(await storage.readAccount('https://ca.test/dir'), { keyPem: 'KEY', url: 'https://ca.test/acct/1' });
    assert.equal(await storage.readAccount('https://other.test/dir'), null, 'one account per directory');
    await writeAtomic(join(accountDir, 'key.pem'), 'KEY2');
    assert.deepEqual((await readdir(accountDir)).sort(), ['account.json', 'key.pem'], 'no temporary files left');
  });

  it('reads back a certificate folder, with names and dates from the certificate', async () => {
    const storage = await fresh();
    const { certPem, keyPem } = await selfSigned('a.berth.test');
    const meta = { names: ['a.berth.test'], directoryUrl: 'https://ca.test/dir', notBefore: '', notAfter: '', lastOrder: { at: '', reason: 'new' as const } };
    const stored = await storage.writeCertificate('a.berth.test', certPem, keyPem, meta);
    assert.deepEqual(stored.names, ['a.berth.test']);
    for (const file of ['cert.pem', 'key.pem', 'meta.json']) assert.equal(await mode(join(stored.dir, file)), 0o600);
    const listed = await storage.listCertificates();
    assert.deepEqual(listed.problems, []);
    assert.equal(listed.certificates[0]?.certPem, certPem);
  });

  it('counts a folder whose key does not match its certificate as unreadable, with a code', async () => {
    const storage = await fresh();
    const a = await selfSigned('a.berth.test');
    const b = await selfSigned('b.berth.test');
    const meta = { names: ['a.berth.test'], directoryUrl: 'x', notBefore: '', notAfter: '', lastOrder: { at: '', reason: 'new' as const } };
    const stored = await storage.writeCertificate('a.berth.test', a.certPem, a.keyPem, meta);
    await writeFile(join(stored.dir, 'key.pem'), b.keyPem);
    const listed = await storage.listCertificates();
    assert.deepEqual(listed.certificates, []);
    assert.equal(listed.problems[0]?.code, Codes.acmeStorage);
  });

  it('keeps holds across instances and skips unreadable ones', async () => {
    const storage = await fresh();
    const hold = beginAttempt(undefined, ['a.berth.test'], 'https://ca.test/dir', Date.parse('2030-01-01T00:00:00Z'), () => 0);
    await storage.writeHold('a.berth.test', hold);
    await writeFile(join(storage.root, 'holds', 'bad.json'), '{');
    const again = await new AcmeStorage(storage.root).readHolds();
    assert.deepEqual(again.holds.get('a.berth.test'), hold);
    assert.equal(again.problems.length, 1);
    await storage.deleteHold('a.berth.test');
    assert.equal((await storage.readHolds()).holds.size, 0);
  });
});

describe('ChallengeRegistry', () => {
  it('answers http-01 paths and tls-alpn-01 names while they are set', () => {
    const registry = new ChallengeRegistry();
    let changes = 0;
    registry.onChange(() => changes++);
    registry.setHttp01('tok_en-1', 'tok_en-1.thumb');
    registry.setTlsAlpn01('A.berth.test', { certPem: 'C', keyPem: 'K' });
    assert.equal(registry.http01ForPath('/.well-known/acme-challenge/tok_en-1'), 'tok_en-1.thumb');
    assert.equal(registry.http01ForPath('/.well-known/acme-challenge/tok_en-1/x'), undefined);
    assert.equal(registry.http01ForPath('/other/tok_en-1'), undefined);
    assert.equal(registry.tlsAlpn01('a.berth.test.'), registry.tlsAlpn01('a.berth.test'));
    assert.equal(registry.tlsAlpn01('a.berth.test')?.certPem, 'C');
    registry.deleteHttp01('tok_en-1');
    registry.deleteTlsAlpn01('a.berth.test');
    assert.equal(registry.http01('tok_en-1'), undefined);
    assert.equal(registry.tlsAlpn01('a.berth.test'), undefined);
    assert.equal(changes, 4);
  });
});

describe('acmeDirectoryUrl', () => {
  const cases: [string, string][] = [
    ['', LETS_ENCRYPT_PRODUCTION],
    ['production', LETS_ENCRYPT_PRODUCTION],
    ['staging', LETS_ENCRYPT_STAGING],
    ['https://ca.internal/acme/directory', 'https://ca.internal/acme/directory'],
  ];
  for (const [value, url] of cases) it(`maps ${JSON.stringify(value)} to ${url}`, () => assert.equal(acmeDirectoryUrl(value), url));

  for (const value of ['prod', 'http://ca.internal/dir'])
    it(`refuses ${value}`, () => assert.throws(() => acmeDirectoryUrl(value), (error: unknown) => error instanceof BerthError && error.code === Codes.configInvalid));
});
