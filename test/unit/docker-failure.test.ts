import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { describeDockerFailure } from '../../src/docker/failure.js';
import { Codes } from '../../src/errors.js';

/** The error Node gives for a unix socket connect, as dockerode passes it on. */
function connectError(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`connect ${code} ${path}`), { code, errno: -13, syscall: 'connect', address: path });
}

describe('describeDockerFailure', () => {
  it('names the socket and the three ways out when the socket refuses berth', () => {
    const failure = describeDockerFailure(connectError('EACCES', '/var/run/docker.sock'), 'unix:///var/run/docker.sock');
    assert.equal(failure.code, Codes.dockerDenied);
    assert.equal(failure.message, 'permission denied on the Docker socket /var/run/docker.sock');
    assert.match(failure.fix ?? '', /--group-add \$\(stat -c %g \/var\/run\/docker\.sock\)/);
    assert.match(failure.fix ?? '', /as root/);
    assert.match(failure.fix ?? '', /socket proxy/);
  });

  it('tells a missing socket from a refused connection', () => {
    assert.deepEqual(describeDockerFailure(connectError('ENOENT', '/run/d.sock'), 'unix:///run/d.sock'), {
      code: Codes.dockerUnreachable,
      message: 'no Docker socket at /run/d.sock',
      fix: "start Docker, mount the socket's folder, or set --docker-host",
    });
    assert.equal(describeDockerFailure(connectError('ECONNREFUSED', '127.0.0.1:2375'), 'tcp://127.0.0.1:2375').message, 'nothing accepts connections at tcp://127.0.0.1:2375');
  });

  it('keeps the code of an API too old and the message of anything else', () => {
    assert.equal(describeDockerFailure(Object.assign(new Error('old'), { code: Codes.dockerApiTooOld }), 'unix:///s').code, Codes.dockerApiTooOld);
    assert.deepEqual(describeDockerFailure(new Error('socket hang up'), 'unix:///s'), { code: Codes.dockerUnreachable, message: 'socket hang up' });
    assert.equal(describeDockerFailure('weird', 'unix:///s').message, 'weird');
  });

  it('reads the error Node really gives for a refused unix socket', async () => {
    const path = `/tmp/berth-no-such-${process.pid}.sock`;
    const error = await new Promise<Error>((resolve) => net.connect(path).once('error', resolve));
    assert.equal(describeDockerFailure(error, `unix://${path}`).message, `no Docker socket at ${path}`);
  });
});
