import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchSocketFile } from '../../src/docker/socket-watch.js';

async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-watch-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function woken(socketPath: string): { count: () => number; stop: () => void } {
  let calls = 0;
  const stop = watchSocketFile(socketPath, () => calls++);
  return { count: () => calls, stop };
}

async function eventually(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100 && !check(); i++) await sleep(10);
  return check();
}

describe('watchSocketFile', () => {
  it('wakes when a server starts listening on the socket path', async () => {
    await inTempDir(async (dir) => {
      const socketPath = join(dir, 'docker.sock');
      const watch = woken(socketPath);
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(socketPath, resolve));
      try {
        assert.ok(await eventually(() => watch.count() > 0), 'woken by the new socket');
      } finally {
        watch.stop();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });

  it('ignores other files in the folder and the socket being removed', async () => {
    await inTempDir(async (dir) => {
      const socketPath = join(dir, 'docker.sock');
      await writeFile(socketPath, '');
      const watch = woken(socketPath);
      await writeFile(join(dir, 'other.sock'), '');
      await rm(socketPath);
      await sleep(100);
      watch.stop();
      assert.equal(watch.count(), 0);
    });
  });

  it('wakes no more once stopped', async () => {
    await inTempDir(async (dir) => {
      const socketPath = join(dir, 'docker.sock');
      const watch = woken(socketPath);
      watch.stop();
      await writeFile(socketPath, '');
      await sleep(100);
      assert.equal(watch.count(), 0);
    });
  });

  it('gives a harmless stop function when the folder does not exist', () => {
    const stop = watchSocketFile('/nonexistent/berth/docker.sock', () => assert.fail('woken'));
    assert.doesNotThrow(stop);
  });
});
