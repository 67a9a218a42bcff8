import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CertificateIndex, normalizeServername, tlsServerOptions } from '../../src/certs/index.js';
import { readCertificatePair } from '../../src/certs/pem.js';
import type { CertificateEntry, CertificateOrigin } from '../../src/certs/types.js';
import { fixturePath } from '../support/repo.js';

const text = (name: string) => readFileSync(fixturePath(`certs/${name}`), 'utf8');
const NOW = Date.parse('2026-06-01T00:00:00Z');

function fixture(name: string, source: CertificateOrigin = 'file'): CertificateEntry {
  const { entry } = readCertificatePair({ certText: text(`${name}.crt`), certPath: `${source}:${name}`, keyText: text(`${name}.key`), keyPath: `${name}.key`, source, now: new Date(NOW) });
  assert.ok(entry, name);
  return entry;
}
/** The same certificate, seen as another source, with other names or dates. */
const variant = (entry: CertificateEntry, changes: Partial<CertificateEntry>): CertificateEntry => ({ ...entry, ...changes });

const fallback = fixture('cn-only', 'default');
const exact = fixture('exact');
const wildcard = fixture('wildcard');
const twoSan = fixture('two-san');
const index = new CertificateIndex([exact, wildcard, twoSan], fallback, { now: () => NOW });

describe('CertificateIndex', () => {
  it('answers an exact name, whatever its case and a trailing dot', () => {
    assert.equal(index.entryFor('exact.test'), exact);
    assert.equal(index.entryFor('EXACT.Test.'), exact);
    assert.equal(index.entryFor('b.two.test'), twoSan);
  });

  it('answers a wildcard one label deep, and not the wildcard\'s own domain nor two labels deep', () => {
    assert.equal(index.entryFor('a.wild.test'), wildcard);
    assert.equal(index.entryFor('wild.test'), fallback);
    assert.equal(index.entryFor('a.b.wild.test'), fallback);
  });

  it('answers the default for unknown names and for no name at all', () => {
    assert.equal(index.entryFor('unknown.test'), fallback);
    assert.equal(index.entryFor(undefined), fallback);
    assert.equal(index.entryFor(''), fallback);
  });

  it('prefers an exact name to a wildcard that covers it too', () => {
    const exactInWild = variant(exact, { names: ['exact.wild.test'], origin: 'exact-in-wild' });
    const both = new CertificateIndex([wildcard, exactInWild], fallback, { now: () => NOW });
    assert.equal(both.entryFor('exact.wild.test'), exactInWild);
    assert.equal(both.entryFor('other.wild.test'), wildcard);
  });

  it('prefers a folder certificate to an ACME one for the same name, whatever lasts longer', () => {
    const acme = variant(exact, { source: 'acme', origin: 'acme', notAfter: new Date('2199-01-01T00:00:00Z') });
    assert.equal(new CertificateIndex([acme, exact], fallback, { now: () => NOW }).entryFor('exact.test'), exact);
    assert.equal(new CertificateIndex([exact, acme], fallback, { now: () => NOW }).entryFor('exact.test'), exact);
  });

  it('among several for one name, answers the one with the latest end date', () => {
    const later = variant(exact, { origin: 'later', notAfter: new Date('2100-06-01T00:00:00Z') });
    assert.equal(new CertificateIndex([exact, later], fallback, { now: () => NOW }).entryFor('exact.test'), later);
    assert.equal(new CertificateIndex([later, exact], fallback, { now: () => NOW }).entryFor('exact.test'), later);
  });

  it('prefers a valid certificate to an expired one, even an ACME one to a folder one', () => {
    const expired = fixture('expired');
    const renewed = variant(expired, { source: 'acme', origin: 'acme', notAfter: new Date('2027-01-01T00:00:00Z'), notBefore: new Date('2026-01-01T00:00:00Z') });
    assert.equal(new CertificateIndex([expired, renewed], fallback, { now: () => NOW }).entryFor('expired.test'), renewed);
  });

  it('still serves an expired certificate when nothing valid covers the name', () => {
    const expired = fixture('expired');
    assert.equal(new CertificateIndex([expired], fallback, { now: () => NOW }).entryFor('expired.test'), expired);
  });

  it('says which hosts a valid certificate covers, so ACME orders only the others', () => {
    const withExpired = new CertificateIndex([exact, wildcard, fixture('expired')], fallback, { now: () => NOW });
    assert.equal(withExpired.covers('exact.test'), true);
    assert.equal(withExpired.covers('Some.Wild.Test.'), true);
    assert.equal(withExpired.covers('wild.test'), false);
    assert.equal(withExpired.covers('expired.test'), false);
    assert.equal(withExpired.covers('cn-only.test'), false, 'the default certificate covers nothing');
  });

  it('makes one secure context per certificate and reuses it, also in a rebuilt index', () => {
    const first = index.contextFor('exact.test');
    assert.equal(index.contextFor('EXACT.TEST'), first);
    assert.notEqual(index.contextFor('a.wild.test'), first);
    assert.equal(index.contextFor('nothing.test'), index.contextFor(undefined));
    const rebuilt = new CertificateIndex([exact], fallback, { now: () => NOW, previous: index });
    assert.equal(rebuilt.contextFor('exact.test'), first);
  });

  it('serves the default when a certificate\'s context cannot be made, and says so', () => {
    const broken = variant(exact, { keyPem: 'not a key', origin: 'broken' });
    const failures: string[] = [];
    const withBroken = new CertificateIndex([broken], fallback, { now: () => NOW, onContextError: (entry) => failures.push(entry.origin) });
    assert.equal(withBroken.contextFor('exact.test'), withBroken.contextFor(undefined));
    assert.deepEqual(failures, ['broken']);
  });

  it('lists each certificate it indexes once', () => {
    assert.deepEqual(index.entries.map((entry) => entry.origin).sort(), ['file:exact', 'file:two-san', 'file:wildcard']);
  });
});

describe('normalizeServername', () => {
  it('lowercases and drops one trailing dot', () => {
    assert.equal(normalizeServername('A.Example.COM.'), 'a.example.com');
  });
});

describe('tlsServerOptions', () => {
  it('asks for TLS 1.2 at least, and only forward-secret AEAD ciphers for TLS 1.2', () => {
    const options = tlsServerOptions();
    assert.equal(options.minVersion, 'TLSv1.2');
    for (const cipher of options.ciphers.split(':')) assert.match(cipher, /^ECDHE-(ECDSA|RSA)-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)$/);
  });
});
