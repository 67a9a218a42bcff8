// What a worker makes of the certificates and challenge answers the primary sends.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ChallengeCopy, fromWire, toWire, WorkerCertificates } from '../../src/cluster/certificates.js';
import { readCertificatePair } from '../../src/certs/pem.js';
import type { CertificateEntry, CertificateOrigin } from '../../src/certs/types.js';
import { fixturePath } from '../support/repo.js';

const text = (name: string) => readFileSync(fixturePath(`certs/${name}`), 'utf8');

function fixture(name: string, source: CertificateOrigin = 'file'): CertificateEntry {
  const { entry } = readCertificatePair({ certText: text(`${name}.crt`), certPath: `${source}:${name}`, keyText: text(`${name}.key`), keyPath: `${name}.key`, source, now: new Date() });
  assert.ok(entry, name);
  return entry;
}

const fallback = fixture('cn-only', 'default');
const exact = fixture('exact');
const wildcard = fixture('wildcard');
// What crosses the channel is JSON: each message makes new objects.
const message = (entries: CertificateEntry[]) => JSON.parse(JSON.stringify({ type: 'berth:certificates', defaultEntry: toWire(fallback), entries: entries.map(toWire) }));
const alpn = { certPem: 'cert', keyPem: 'key' };

describe('the certificates a worker is sent', () => {
  it('cross the channel and come back the same', () => {
    assert.deepEqual(fromWire(JSON.parse(JSON.stringify(toWire(exact)))), exact);
  });

  it('keep the secure context of a certificate that did not change, and make one for a new one', () => {
    const certificates = new WorkerCertificates(new ChallengeCopy(), pino({ enabled: false }));
    assert.equal(certificates.held, false);
    assert.throws(() => certificates.contextFor('exact.test'));
    certificates.replace(message([exact]));
    assert.equal(certificates.held, true);
    const first = certificates.contextFor('exact.test');
    const fallbackContext = certificates.contextFor('unknown.test');
    certificates.replace(message([exact, wildcard]));
    assert.equal(certificates.contextFor('exact.test'), first);
    assert.equal(certificates.contextFor('unknown.test'), fallbackContext);
    const renewed = { ...exact, notAfter: new Date(exact.notAfter.getTime() + 1000) };
    certificates.replace(message([renewed, wildcard]));
    assert.notEqual(certificates.contextFor('exact.test'), first);
  });

  it('answer challenges from the latest copy only', () => {
    const challenges = new ChallengeCopy();
    const certificates = new WorkerCertificates(challenges, pino({ enabled: false }));
    challenges.replace({ type: 'berth:challenges', version: 1, http01: { token: 'answer' }, tlsAlpn01: { 'a.test': alpn } });
    assert.equal(challenges.http01('token'), 'answer');
    assert.deepEqual(challenges.tlsAlpn01('A.test.'), alpn);
    challenges.replace({ type: 'berth:challenges', version: 2, http01: {}, tlsAlpn01: {} });
    assert.equal(challenges.http01('token'), undefined);
    assert.equal(certificates.challengeContextFor('a.test'), undefined);
  });
});
