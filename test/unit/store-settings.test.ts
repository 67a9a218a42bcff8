// The store settings: addresses read once, passwords kept out of what berth shows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/parse.js';
import type { Config } from '../../src/config/settings.js';

const config = (argv: string[], env: NodeJS.ProcessEnv = {}): Config => {
  const result = parseConfig(argv, env);
  assert.equal(result.kind, 'config', JSON.stringify(result));
  return (result as { config: Config }).config;
};
const problems = (argv: string[]): string[] => {
  const result = parseConfig(argv, {});
  return result.kind === 'invalid' ? result.problems : [];
};

describe('store settings', () => {
  it('reads a Redis URL with a database and credentials, and hides the password', () => {
    const { redis } = config(['--redis', 'redis://berth:s3cret@127.0.0.1:6379/2']);
    assert.equal(redis?.url, 'redis://berth:s3cret@127.0.0.1:6379/2');
    assert.equal(redis?.shown, 'redis://berth:***@127.0.0.1:6379/2');
  });

  it('refuses a Redis address of another scheme or with a database that is not a number', () => {
    assert.equal(problems(['--redis', 'http://127.0.0.1:6379']).length, 1);
    assert.equal(problems(['--redis', 'redis://127.0.0.1:6379/x']).length, 1);
  });

  it('reads an etcd URL, and takes its user and password from their own settings', () => {
    const read = config(['--etcd', 'https://etcd.internal:2379', '--etcd-user', 'berth', '--etcd-ca', 'ca.pem'], { BERTH_ETCD_PASSWORD: 'pw' });
    assert.deepEqual([read.etcd?.url, read.etcdUser, read.etcdPassword, read.etcdCa], ['https://etcd.internal:2379', 'berth', 'pw', 'ca.pem']);
    assert.match(problems(['--etcd', 'http://user:pw@127.0.0.1:2379'])[0] ?? '', /--etcd-user/);
  });

  it('asks for a password with a user, and for https with a CA', () => {
    assert.match(problems(['--etcd', 'http://127.0.0.1:2379', '--etcd-user', 'berth']).join('\n'), /--etcd-password/);
    assert.match(problems(['--etcd', 'http://127.0.0.1:2379', '--etcd-ca', 'ca.pem']).join('\n'), /https/);
  });

  it('lets a store alone be what --no-docker serves', () => {
    assert.equal(config(['--no-docker', '--redis', 'redis://127.0.0.1:6379']).docker, false);
    assert.equal(config(['--no-docker', '--etcd', 'http://127.0.0.1:2379']).docker, false);
    assert.match(problems(['--no-docker']).join('\n'), /--routes-file, --redis or --etcd/);
  });
});
