import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { makeSelfSigned } from '../../src/certs/default.js';
import { readCertificatePair, isKeyOnly, type PemInput } from '../../src/certs/pem.js';
import { Codes } from '../../src/errors.js';
import { fixturePath } from '../support/repo.js';

const text = (name: string) => readFileSync(fixturePath(`certs/${name}`), 'utf8');
const NOW = new Date('2026-06-01T00:00:00Z');

/** The fixture pair `<name>.crt` + `<name>.key`, as the folder would pass it. */
function pair(name: string, overrides: Partial<PemInput> = {}): PemInput {
  return { certText: text(`${name}.crt`), certPath: `/certs/${name}.crt`, keyText: text(`${name}.key`), keyPath: `/certs/${name}.key`, source: 'file', now: NOW, ...overrides };
}
const codes = (input: PemInput) => readCertificatePair(input).problems.map((problem) => problem.code);

describe('readCertificatePair', () => {
  it('reads an exact-name certificate with an RSA key: names, dates, issuer, origin', () => {
    const { entry, problems } = readCertificatePair(pair('exact'));
    assert.deepEqual(problems, []);
    assert.ok(entry);
    assert.deepEqual(entry.names, ['exact.test']);
    assert.equal(entry.source, 'file');
    assert.equal(entry.issuer, 'CN=exact.test');
    assert.equal(entry.notBefore.toISOString(), '2024-01-01T00:00:00.000Z');
    assert.equal(entry.notAfter.toISOString(), '2099-12-31T00:00:00.000Z');
    assert.equal(entry.origin, '/certs/exact.crt');
    assert.match(entry.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('lowercases the names of a certificate with two SANs', () => {
    assert.deepEqual(readCertificatePair(pair('two-san')).entry?.names, ['a.two.test', 'b.two.test']);
  });

  it('keeps a wildcard name as it is written', () => {
    assert.deepEqual(readCertificatePair(pair('wildcard')).entry?.names, ['*.wild.test']);
  });

  it('falls back to the subject CN when the certificate has no DNS SAN', () => {
    assert.deepEqual(readCertificatePair(pair('cn-only')).entry?.names, ['cn-only.test']);
  });

  it('keeps the chain after the leaf, and names the intermediate as issuer', () => {
    const { entry, problems } = readCertificatePair(pair('chained'));
    assert.deepEqual(problems, []);
    assert.equal(entry?.certPem.match(/BEGIN CERTIFICATE/g)?.length, 2);
    assert.equal(entry?.issuer, 'CN=berth test intermediate');
    assert.deepEqual(entry?.names, ['chained.test', 'www.chained.test']);
  });

  it('refuses a key that is not the certificate\'s, naming the key file', () => {
    const { entry, problems } = readCertificatePair(pair('mismatch'));
    assert.equal(entry, null);
    assert.equal(problems[0]?.code, Codes.certKeyMismatch);
    assert.equal(problems[0]?.file, '/certs/mismatch.key');
    assert.match(problems[0]!.message, /mismatch\.key is not the key of \/certs\/mismatch\.crt/);
  });

  it('says to put the leaf first when the key matches a later certificate of the file', () => {
    const { entry, problems } = readCertificatePair(pair('wrong-order'));
    assert.equal(entry, null);
    assert.equal(problems[0]?.code, Codes.certKeyMismatch);
    assert.match(problems[0]!.message, /certificate #2 .*the leaf must come first/);
  });

  it('serves an expired certificate with a warning that says when it expired', () => {
    const { entry, problems } = readCertificatePair(pair('expired'));
    assert.ok(entry);
    assert.deepEqual(problems.map((p) => p.code), [Codes.certExpired]);
    assert.match(problems[0]!.message, /expired on 2020-01-01T00:00:00\.000Z/);
  });

  it('warns about a certificate that is not valid yet', () => {
    assert.deepEqual(codes(pair('exact', { now: new Date('2023-01-01T00:00:00Z') })), [Codes.certExpired]);
  });

  it('warns about a chain out of order but still serves it', () => {
    const leafThenRootless = text('chained.crt').split(/(?<=-----END CERTIFICATE-----\n)/);
    const reversedChain = leafThenRootless[0] + text('root-ca.pem');
    const { entry, problems } = readCertificatePair(pair('chained', { certText: reversedChain }));
    assert.ok(entry);
    assert.deepEqual(problems.map((p) => p.code), [Codes.certChain]);
  });

  it('refuses a file that is not PEM, and says when it looks like DER', () => {
    assert.deepEqual(codes(pair('exact', { certText: 'hello\n' })), [Codes.certFile]);
    const der = Buffer.from(text('exact.crt').split('\n').slice(1, -2).join(''), 'base64').toString('utf8');
    const { problems } = readCertificatePair(pair('exact', { certText: der }));
    assert.equal(problems[0]?.code, Codes.certFile);
    assert.match(problems[0]!.message, /looks like DER/);
  });

  it('refuses a PEM block that holds no certificate Node can read', () => {
    assert.deepEqual(codes(pair('exact', { certText: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' })), [Codes.certFile]);
  });

  it('refuses a certificate that names no DNS host', async () => {
    const { certPem, keyPem } = await makeSelfSigned('Not A Host', NOW);
    const { entry, problems } = readCertificatePair(pair('exact', { certText: certPem, keyText: keyPem }));
    assert.equal(entry, null);
    assert.deepEqual(problems.map((p) => p.code), [Codes.certFile]);
    assert.match(problems[0]!.message, /names no DNS host/);
  });

  it('refuses a key file with no private key in it', () => {
    const { problems } = readCertificatePair(pair('exact', { keyText: text('exact.crt') }));
    assert.deepEqual(problems.map((p) => [p.code, p.file]), [[Codes.certKey, '/certs/exact.key']]);
  });

  it('refuses an encrypted key, saying that berth reads unencrypted keys only', () => {
    const encrypted = '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n';
    const { problems } = readCertificatePair(pair('exact', { keyText: encrypted }));
    assert.equal(problems[0]?.code, Codes.certKey);
    assert.match(problems[0]!.message, /is encrypted/);
  });

  it('says there is no key when there is no key file and none in the certificate file', () => {
    const { problems } = readCertificatePair(pair('exact', { keyText: null }));
    assert.deepEqual(problems.map((p) => p.code), [Codes.certNoKey]);
    assert.match(problems[0]!.message, /there is no \/certs\/exact\.key/);
  });

  it('takes the key from the certificate file itself when it holds one', () => {
    const { entry, problems } = readCertificatePair(pair('exact', { certText: text('exact.crt') + text('exact.key'), keyText: null }));
    assert.deepEqual(problems, []);
    assert.equal(entry?.certPem.includes('PRIVATE KEY'), false);
  });

  it('tells a key-only PEM file from a certificate file', () => {
    assert.equal(isKeyOnly(text('exact.key')), true);
    assert.equal(isKeyOnly(text('exact.crt')), false);
    assert.equal(isKeyOnly(text('exact.crt') + text('exact.key')), false);
  });
});
