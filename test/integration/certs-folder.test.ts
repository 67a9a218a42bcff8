// The certificates folder: real files in a temporary folder, watched; every change seen within a second.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rename, rm, symlink, unlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { CertificateFolder } from '../../src/certs/folder.js';
import { Codes } from '../../src/errors.js';
import { fixturePath } from '../support/repo.js';
import { waitFor } from '../support/wait.js';

const fixture = (name: string) => fixturePath(`certs/${name}`);
const WITHIN_A_SECOND = { timeoutMs: 1000, intervalMs: 10 };

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) });
  return { lines, logger: pino({ level: 'info' }, sink) };
}

describe('the certificates folder', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-certs-'));
  const { lines, logger } = capture();
  let folder: CertificateFolder;
  let changes = 0;
  const names = () => folder.entries.flatMap((entry) => entry.names).sort();
  const problemsOf = (file: string) => folder.problems.filter((p) => (p as { file?: string }).file?.endsWith(file)).map((p) => p.code);

  before(async () => {
    await copyFile(fixture('exact.crt'), join(dir, 'exact.crt'));
    await copyFile(fixture('exact.key'), join(dir, 'exact.key'));
    await copyFile(fixture('mismatch.crt'), join(dir, 'mismatch.crt'));
    await copyFile(fixture('mismatch.key'), join(dir, 'mismatch.key'));
    // Not certificates: ignored without a word.
    await writeFile(join(dir, 'notes.txt'), 'hello');
    await copyFile(fixture('exact.key'), join(dir, 'privkey.pem'));
    folder = new CertificateFolder({ dir, logger });
    folder.onChange(() => changes++);
    await folder.start();
    await folder.whenLoaded();
  });
  after(async () => {
    await folder?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the good pairs present at start and lists the bad ones as problems', () => {
    assert.deepEqual(names(), ['exact.test']);
    assert.deepEqual(problemsOf('mismatch.key'), [Codes.certKeyMismatch]);
    assert.equal(folder.status.state, 'problems');
    assert.equal(folder.entries[0]?.source, 'file');
    assert.equal(folder.entries[0]?.origin, join(dir, 'exact.crt'));
  });

  it('serves a pair copied in within a second', async () => {
    const before = changes;
    await copyFile(fixture('two-san.key'), join(dir, 'two-san.key'));
    await copyFile(fixture('two-san.crt'), join(dir, 'two-san.crt'));
    await waitFor(async () => names().includes('a.two.test'), { what: 'the two-SAN pair', ...WITHIN_A_SECOND });
    assert.ok(changes > before, 'listeners are told');
  });

  it('picks up a key written after its certificate', async () => {
    await copyFile(fixture('wildcard.crt'), join(dir, 'wildcard.pem'));
    await waitFor(async () => problemsOf('wildcard.pem').includes(Codes.certNoKey), { what: 'the missing key problem', ...WITHIN_A_SECOND });
    await copyFile(fixture('wildcard.key'), join(dir, 'wildcard.key'));
    await waitFor(async () => names().includes('*.wild.test'), { what: 'the wildcard pair', ...WITHIN_A_SECOND });
    assert.deepEqual(problemsOf('wildcard.pem'), []);
  });

  it('serves a renewed certificate put in place by an atomic rename', async () => {
    // The same key, another certificate: the chained one's key is not exact's, so write both by rename.
    await writeFile(join(dir, '.exact.key.tmp'), await readFile(fixture('chained.key')));
    await writeFile(join(dir, '.exact.crt.tmp'), await readFile(fixture('chained.crt')));
    await rename(join(dir, '.exact.key.tmp'), join(dir, 'exact.key'));
    await rename(join(dir, '.exact.crt.tmp'), join(dir, 'exact.crt'));
    await waitFor(async () => names().includes('chained.test') && !names().includes('exact.test'), { what: 'the renewed pair', ...WITHIN_A_SECOND });
    assert.deepEqual(problemsOf('exact.crt'), []);
  });

  it('keeps the last good version of a pair that breaks, and logs the problem once', async () => {
    const logged = () => lines.filter((line) => line.code === Codes.certKeyMismatch && String(line.path).endsWith('two-san.key')).length;
    await copyFile(fixture('exact.key'), join(dir, 'two-san.key'));
    await waitFor(async () => problemsOf('two-san.key').includes(Codes.certKeyMismatch), { what: 'the mismatch problem', ...WITHIN_A_SECOND });
    assert.ok(names().includes('a.two.test'), 'the last good two-SAN certificate stays');
    await waitFor(async () => logged() === 1, { what: 'the mismatch logged', ...WITHIN_A_SECOND });
    // Scans that find nothing new say nothing new.
    await writeFile(join(dir, 'notes.txt'), 'touched');
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(logged(), 1);
    assert.equal(lines.find((line) => line.code === Codes.certKeyMismatch && String(line.path).endsWith('two-san.key'))?.serving, join(dir, 'two-san.crt'));
  });

  it('serves the pair again once it is mended', async () => {
    await copyFile(fixture('two-san.key'), join(dir, 'two-san.key'));
    await waitFor(async () => problemsOf('two-san.key').length === 0, { what: 'the mended pair', ...WITHIN_A_SECOND });
    assert.ok(names().includes('b.two.test'));
  });

  it('removes a pair whose certificate is deleted', async () => {
    await unlink(join(dir, 'two-san.crt'));
    await waitFor(async () => !names().includes('a.two.test'), { what: 'the deleted pair to go', ...WITHIN_A_SECOND });
    await unlink(join(dir, 'mismatch.crt'));
    await waitFor(async () => problemsOf('mismatch.key').length === 0, { what: 'the deleted bad pair\'s problem to go', ...WITHIN_A_SECOND });
  });

  it('serves an expired certificate with a warning', async () => {
    await copyFile(fixture('expired.key'), join(dir, 'expired.key'));
    await copyFile(fixture('expired.crt'), join(dir, 'expired.crt'));
    await waitFor(async () => names().includes('expired.test'), { what: 'the expired pair', ...WITHIN_A_SECOND });
    assert.deepEqual(problemsOf('expired.crt'), [Codes.certExpired]);
  });

  it('follows a Kubernetes-style secret volume, whose files are symlinks into a swapped ..data', async () => {
    const secret = await mkdtemp(join(tmpdir(), 'berth-secret-'));
    const inner = new CertificateFolder({ dir: secret, logger: pino({ level: 'silent' }) });
    try {
      const version = async (name: string, from: string) => {
        await mkdir(join(secret, name));
        await copyFile(fixture(`${from}.crt`), join(secret, name, 'tls.crt'));
        await copyFile(fixture(`${from}.key`), join(secret, name, 'tls.key'));
        await symlink(name, join(secret, '..data_tmp'));
        await rename(join(secret, '..data_tmp'), join(secret, '..data'));
      };
      await version('..v1', 'exact');
      await symlink('..data/tls.crt', join(secret, 'tls.crt'));
      await symlink('..data/tls.key', join(secret, 'tls.key'));
      await inner.start();
      assert.deepEqual(inner.entries.flatMap((e) => e.names), ['exact.test']);
      await version('..v2', 'two-san');
      await waitFor(async () => inner.entries[0]?.names.includes('a.two.test'), { what: 'the swapped secret', ...WITHIN_A_SECOND });
    } finally {
      await inner.stop();
      await rm(secret, { recursive: true, force: true });
    }
  });

  it('says when the folder goes away, keeps what it had, and recovers when it is back', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'berth-mount-'));
    const mount = join(parent, 'certs');
    await mkdir(mount);
    await copyFile(fixture('exact.crt'), join(mount, 'exact.crt'));
    await copyFile(fixture('exact.key'), join(mount, 'exact.key'));
    const inner = new CertificateFolder({ dir: mount, logger: pino({ level: 'silent' }), resyncMs: 100 });
    try {
      await inner.start();
      assert.equal(inner.entries.length, 1);
      // An unmounted volume: the folder is gone at once, its files with it.
      await rename(mount, join(parent, 'elsewhere'));
      await waitFor(async () => inner.status.state === 'unreadable', { what: 'the folder problem', timeoutMs: 2000, intervalMs: 10 });
      assert.deepEqual(inner.problems.map((p) => p.code), [Codes.certsDir]);
      assert.equal(inner.entries.length, 1);
      await rename(join(parent, 'elsewhere'), mount);
      await waitFor(async () => inner.status.state === 'ok', { what: 'the folder back', timeoutMs: 2000, intervalMs: 10 });
      assert.equal(inner.entries.length, 1);
    } finally {
      await inner.stop();
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('starts on a folder that does not exist yet, and loads it once it does', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'berth-later-'));
    const later = join(parent, 'certs');
    const inner = new CertificateFolder({ dir: later, logger: pino({ level: 'silent' }), resyncMs: 100 });
    try {
      await inner.start();
      assert.equal(inner.status.state, 'unreadable');
      await mkdir(later);
      await copyFile(fixture('exact.key'), join(later, 'exact.key'));
      await copyFile(fixture('exact.crt'), join(later, 'exact.crt'));
      await waitFor(async () => inner.entries.length === 1, { what: 'the late folder', timeoutMs: 2000, intervalMs: 10 });
      assert.equal(inner.status.state, 'ok');
    } finally {
      await inner.stop();
      await rm(parent, { recursive: true, force: true });
    }
  });
});
