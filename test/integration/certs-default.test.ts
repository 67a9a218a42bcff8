// The default certificate: made once in its folder, reused across restarts, remade when it cannot be used.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadDefaultCertificate } from '../../src/certs/default.js';
import { Codes } from '../../src/errors.js';

describe('the default certificate', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-default-'));
  after(() => rm(dir, { recursive: true, force: true }));

  it('is made once, self-signed for berth-default, with files only their owner can read', async () => {
    const made = await loadDefaultCertificate({ dir: join(dir, 'store') });
    assert.equal(made.created, true);
    assert.deepEqual(made.problems, []);
    assert.equal(made.entry.source, 'default');
    assert.deepEqual(made.entry.names, ['berth-default']);
    const cert = new X509Certificate(made.entry.certPem);
    assert.equal(cert.subject, 'CN=berth-default');
    assert.equal(cert.issuer, 'CN=berth-default');
    assert.equal(cert.subjectAltName, 'DNS:berth-default');
    for (const file of ['default.crt', 'default.key']) assert.equal((await stat(join(dir, 'store', file))).mode & 0o777, 0o600, file);
  });

  it('is the same one after a restart', async () => {
    const first = await loadDefaultCertificate({ dir: join(dir, 'store') });
    const again = await loadDefaultCertificate({ dir: join(dir, 'store') });
    assert.equal(again.created, false);
    assert.equal(again.entry.certPem, first.entry.certPem);
    assert.equal(again.entry.certPem, await readFile(join(dir, 'store', 'default.crt'), 'utf8'));
  });

  it('is made anew when its file is unreadable, and says so', async () => {
    await writeFile(join(dir, 'store', 'default.crt'), 'garbage');
    const remade = await loadDefaultCertificate({ dir: join(dir, 'store') });
    assert.equal(remade.created, true);
    assert.deepEqual(remade.problems.map((p) => p.code), [Codes.certDefault]);
    assert.equal((await loadDefaultCertificate({ dir: join(dir, 'store') })).entry.certPem, remade.entry.certPem);
  });

  it('is made anew when it has expired or is about to', async () => {
    const before = await loadDefaultCertificate({ dir: join(dir, 'store') });
    const later = new Date(before.entry.notAfter.getTime() - 24 * 3600 * 1000);
    const renewed = await loadDefaultCertificate({ dir: join(dir, 'store'), now: () => later });
    assert.equal(renewed.created, true);
    assert.ok(renewed.entry.notAfter > before.entry.notAfter);
  });

  it('is served from memory when its folder cannot be written', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, '');
    const inMemory = await loadDefaultCertificate({ dir: join(file, 'store') });
    assert.equal(inMemory.created, true);
    assert.ok(inMemory.problems.some((p) => p.code === Codes.certDefault && /served from memory/.test(p.message)));
    assert.deepEqual(inMemory.entry.names, ['berth-default']);
  });
});
