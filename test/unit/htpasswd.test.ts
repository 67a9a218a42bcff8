import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apr1, hashKind, parseBasicAuthorization, readHash, verifyPassword } from '../../src/behaviours/htpasswd.js';

// From `openssl passwd -apr1 -salt <salt> <password>` (OpenSSL 3), an implementation independent of berth's.
const APR1_VECTORS: ReadonlyArray<[password: string, salt: string, hash: string]> = [
  ['password', 'saltsalt', '$apr1$saltsalt$yAAkm4libquA.ZWLHbSBq/'],
  ['password', 'xy', '$apr1$xy$.lxC8wf/tCocZ14cbZ9g1.'],
  ['password', '', '$apr1$$qjtLUZpoiD4RwXIYf4qVb0'],
  ['pässwörd', 'Mq1xF2kd', '$apr1$Mq1xF2kd$M9qTAtoznO8oRhVxSu2s30'],
  ['', 'abcdefgh', '$apr1$abcdefgh$L.PT565ESX4Tp2bqNs7Ie.'],
  ['a much longer password that is over sixteen bytes', 'r31.....', '$apr1$r31.....$2Z34yl1IcY8zAgEVenMlF0'],
];

// OpenBSD's bcrypt test vectors (also in John the Ripper's), and the same hashes under the other prefixes.
const BCRYPT_U = '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW';
const BCRYPT_UU = '$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK';
// printf secret | openssl sha1 -binary | base64
const SHA_SECRET = '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=';

describe('apr1', () => {
  for (const [password, salt, hash] of APR1_VECTORS) {
    it(`matches openssl for salt "${salt}" and a ${password.length}-character password`, () => {
      assert.equal(apr1(password, salt), hash);
      assert.equal(verifyPassword(hash, password), true);
      assert.equal(verifyPassword(hash, password + 'x'), false);
    });
  }
});

describe('verifyPassword', () => {
  it('checks bcrypt hashes under $2a$, $2b$ and $2y$, asynchronously', async () => {
    for (const prefix of ['$2a$', '$2b$', '$2y$']) {
      const result = verifyPassword(prefix + BCRYPT_U.slice(4), 'U*U');
      assert.ok(result instanceof Promise);
      assert.equal(await result, true, prefix);
      assert.equal(await verifyPassword(prefix + BCRYPT_UU.slice(4), 'U*U*'), true, prefix);
      assert.equal(await verifyPassword(prefix + BCRYPT_U.slice(4), 'U*U*'), false, prefix);
    }
  });

  it('checks {SHA} hashes', () => {
    assert.equal(verifyPassword(SHA_SECRET, 'secret'), true);
    assert.equal(verifyPassword(SHA_SECRET, 'Secret'), false);
  });

  it('never matches a hash it does not know', () => {
    assert.equal(verifyPassword('secret', 'secret'), false);
    assert.equal(verifyPassword('abJnggxhB/yWI', 'secret'), false);
    assert.equal(verifyPassword('$1$salt$qJH7.N4xYta3aEG/dfqo/0', 'password'), false);
  });
});

describe('hashKind and readHash', () => {
  it('knows the three kinds and nothing else', () => {
    assert.equal(hashKind(BCRYPT_U), 'bcrypt');
    assert.equal(hashKind(APR1_VECTORS[0]![2]), 'apr1');
    assert.equal(hashKind(SHA_SECRET), 'sha1');
    assert.equal(hashKind('$2a$03$' + BCRYPT_U.slice(7)), undefined, 'bcrypt cost below 4');
    assert.equal(hashKind(BCRYPT_U.slice(0, -1)), undefined, 'a truncated bcrypt');
    assert.equal(hashKind('plain'), undefined);
  });

  it('reads $$ as $ as compose files need, and takes a valid hash as it is', () => {
    assert.equal(readHash(BCRYPT_U.replaceAll('$', '$$')), BCRYPT_U);
    assert.equal(readHash('$$apr1$$xy$$.lxC8wf/tCocZ14cbZ9g1.'), '$apr1$xy$.lxC8wf/tCocZ14cbZ9g1.');
    // An empty apr1 salt is spelled with $$ itself.
    assert.equal(readHash('$apr1$$qjtLUZpoiD4RwXIYf4qVb0'), '$apr1$$qjtLUZpoiD4RwXIYf4qVb0');
    assert.equal(readHash('$$apr1$$$$qjtLUZpoiD4RwXIYf4qVb0'), '$apr1$$qjtLUZpoiD4RwXIYf4qVb0');
    assert.equal(readHash('$$nope'), undefined);
  });
});

describe('parseBasicAuthorization', () => {
  const basic = (text: string) => 'Basic ' + Buffer.from(text, 'utf8').toString('base64');
  it('reads user and password, the password keeping its colons', () => {
    assert.deepEqual(parseBasicAuthorization(basic('alice:se:cret')), { user: 'alice', password: 'se:cret' });
    assert.deepEqual(parseBasicAuthorization(basic('alice:')), { user: 'alice', password: '' });
    assert.deepEqual(parseBasicAuthorization('bAsIc  ' + Buffer.from('jö:pw').toString('base64')), { user: 'jö', password: 'pw' });
  });

  it('refuses other schemes, bad base64, no colon, non-UTF-8 and several headers', () => {
    for (const header of [undefined, '', 'Bearer abc', 'Basic', 'Basic !!!!', 'Basic YWxpY2U', basic('alice'), 'Basic ' + Buffer.from([0x61, 0x3a, 0xff]).toString('base64'), 'Basic YQ== YQ==']) {
      assert.equal(parseBasicAuthorization(header), null, String(header));
    }
    assert.equal(parseBasicAuthorization([basic('a:b'), basic('a:b')]), null);
  });
});
