import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DOCKER_HOST, parseDockerHost } from '../../src/docker/address.js';

describe('parseDockerHost', () => {
  it('reads the default unix socket address', () => {
    assert.deepEqual(parseDockerHost(DEFAULT_DOCKER_HOST), { kind: 'unix', socketPath: '/var/run/docker.sock' });
  });

  it('reads a unix:// address and a bare absolute socket path', () => {
    assert.deepEqual(parseDockerHost('unix:///run/user/1000/docker.sock'), { kind: 'unix', socketPath: '/run/user/1000/docker.sock' });
    assert.deepEqual(parseDockerHost('/tmp/docker.sock'), { kind: 'unix', socketPath: '/tmp/docker.sock' });
  });

  it('rejects a unix address with a relative path', () => {
    assert.equal(parseDockerHost('unix://docker.sock'), undefined);
  });

  it('reads tcp:// with a port as plain http', () => {
    assert.deepEqual(parseDockerHost('tcp://10.0.0.5:2375'), { kind: 'tcp', host: '10.0.0.5', port: 2375, protocol: 'http' });
  });

  it('defaults the port to 2375 for tcp and http, 2376 for https', () => {
    assert.deepEqual(parseDockerHost('tcp://docker'), { kind: 'tcp', host: 'docker', port: 2375, protocol: 'http' });
    assert.deepEqual(parseDockerHost('http://docker/'), { kind: 'tcp', host: 'docker', port: 2375, protocol: 'http' });
    assert.deepEqual(parseDockerHost('https://docker'), { kind: 'tcp', host: 'docker', port: 2376, protocol: 'https' });
  });

  it('reads a bracketed IPv6 host without its brackets', () => {
    assert.deepEqual(parseDockerHost('tcp://[::1]:2375'), { kind: 'tcp', host: '::1', port: 2375, protocol: 'http' });
  });

  it('accepts an upper-case scheme', () => {
    assert.equal(parseDockerHost('TCP://docker:1234')?.kind, 'tcp');
  });

  for (const bad of ['tcp://docker:0', 'tcp://docker:65536', 'tcp://docker:99999', 'ssh://user@host', 'npipe:////./pipe/docker_engine', 'docker:2375', '', 'tcp://', 'tcp://host/some/path']) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      assert.equal(parseDockerHost(bad), undefined);
    });
  }
});
