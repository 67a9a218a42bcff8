#!/usr/bin/env node
// Regenerates the certificates under test/fixtures/certs with @peculiar/x509 (no openssl CLI).
// Run it only when a case is added: its output is committed, and the tests read the files as they are.
//   node scripts/make-test-certs.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);
const out = new URL('../test/fixtures/certs/', import.meta.url);
mkdirSync(out, { recursive: true });

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const RSA = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
// Far enough ahead that the fixtures never expire under the tests.
const LONG = { notBefore: new Date('2024-01-01T00:00:00Z'), notAfter: new Date('2099-12-31T00:00:00Z') };
let serial = 1;

const keysFor = (alg) => webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);

async function keyPem(keys) {
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

const pem = (cert) => cert.toString('pem') + '\n';
const sans = (names) => new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns', value })));

/** A leaf: self-signed, or signed by `issuer` ({ cert, keys }). */
async function leaf({ cn, names, alg = EC, validity = LONG, issuer }) {
  const keys = await keysFor(alg);
  const extensions = [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true)];
  if (names) extensions.push(sans(names));
  const common = { serialNumber: String(serial++).padStart(2, '0'), ...validity, extensions };
  const cert = issuer
    ? await x509.X509CertificateGenerator.create({ ...common, subject: `CN=${cn}`, issuer: issuer.cert.subject, publicKey: keys.publicKey, signingKey: issuer.keys.privateKey, signingAlgorithm: EC })
    : await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: `CN=${cn}`, keys, signingAlgorithm: alg });
  return { cert, keys };
}

async function authority(cn, issuer) {
  const keys = await keysFor(EC);
  const extensions = [new x509.BasicConstraintsExtension(true, issuer ? 0 : 1, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)];
  const common = { serialNumber: String(serial++).padStart(2, '0'), ...LONG, extensions };
  const cert = issuer
    ? await x509.X509CertificateGenerator.create({ ...common, subject: `CN=${cn}`, issuer: issuer.cert.subject, publicKey: keys.publicKey, signingKey: issuer.keys.privateKey, signingAlgorithm: EC })
    : await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: `CN=${cn}`, keys, signingAlgorithm: EC });
  return { cert, keys };
}

async function write(name, { cert, keys }, chain = []) {
  writeFileSync(new URL(`${name}.crt`, out), [cert, ...chain].map(pem).join(''));
  writeFileSync(new URL(`${name}.key`, out), await keyPem(keys));
}

// One exact name, with an RSA key (the others are EC P-256).
await write('exact', await leaf({ cn: 'exact.test', names: ['exact.test'], alg: RSA }));
await write('wildcard', await leaf({ cn: '*.wild.test', names: ['*.wild.test'] }));
// Mixed case on purpose: names are compared lowercase.
await write('two-san', await leaf({ cn: 'a.two.test', names: ['a.two.test', 'B.Two.Test'] }));
// No SAN at all: the subject CN is the name.
await write('cn-only', await leaf({ cn: 'cn-only.test' }));
await write('expired', await leaf({ cn: 'expired.test', names: ['expired.test'], validity: { notBefore: new Date('2019-01-01T00:00:00Z'), notAfter: new Date('2020-01-01T00:00:00Z') } }));
// A certificate with somebody else's key.
const mismatched = await leaf({ cn: 'mismatch.test', names: ['mismatch.test'] });
mismatched.keys = await keysFor(EC);
await write('mismatch', mismatched);
// A leaf signed by an intermediate signed by a root: the .crt holds the leaf, then the intermediate.
const root = await authority('berth test root');
const intermediate = await authority('berth test intermediate', root);
await write('chained', await leaf({ cn: 'chained.test', names: ['chained.test', 'www.chained.test'], issuer: intermediate }), [intermediate.cert]);
writeFileSync(new URL('root-ca.pem', out), pem(root.cert));
// The same chain in the wrong order: the intermediate first.
const wrongOrder = await leaf({ cn: 'order.test', names: ['order.test'], issuer: intermediate });
writeFileSync(new URL('wrong-order.crt', out), [intermediate.cert, wrongOrder.cert].map(pem).join(''));
writeFileSync(new URL('wrong-order.key', out), await keyPem(wrongOrder.keys));
