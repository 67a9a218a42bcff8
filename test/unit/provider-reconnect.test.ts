import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { DockerClient } from '../../src/docker/client.js';
import type { DockerProvider } from '../../src/docker/provider.js';
import { providerOver } from '../support/provider.js';
import type { Clock } from '../../src/util/clock.js';

/** A clock whose timers fire only when the test says so. */
function manualClock() {
  const timers: Array<{ fire: () => void; ms: number; cancelled: boolean }> = [];
  const clock: Clock = {
    now: () => 0,
    setTimeout(fire, ms) {
      const timer = { fire, ms, cancelled: false };
      timers.push(timer);
      return { cancel: () => void (timer.cancelled = true) };
    },
  };
  return { clock, pending: () => timers.filter((timer) => !timer.cancelled) };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await nextTurn();
  assert.ok(check(), 'condition not reached');
}

/** A client whose first connects fail as given, with a daemon watch the test can trigger. */
function flakyClient(failures: string[]) {
  let attempts = 0;
  const wakes: Array<() => void> = [];
  let watchesStopped = 0;
  const client: DockerClient = {
    async connect() {
      const failure = failures[attempts++];
      if (failure !== undefined) throw Object.assign(new Error(`connect ${failure} /run/docker.sock`), { code: failure });
      return '1.41';
    },
    listContainers: async () => [],
    async openEvents() {
      let end!: (why: string) => void;
      const ended = new Promise<string>((resolve) => (end = resolve));
      return { ended, close: () => end('closed') };
    },
    watchForDaemon(wake) {
      wakes.push(wake);
      return () => watchesStopped++;
    },
  };
  return { client, wakes, attempts: () => attempts, watchesStopped: () => watchesStopped };
}

function provider(client: DockerClient, clock: Clock): DockerProvider {
  return providerOver(client, { resyncIntervalMs: 30_000, reconnect: { initialMs: 100, maxMs: 10_000 }, clock });
}

describe('DockerProvider reconnecting', () => {
  it('tries again as soon as the daemon watch reports the daemon back, without waiting out the backoff', async () => {
    const { clock } = manualClock();
    const fake = flakyClient(['ENOENT']);
    const docker = provider(fake.client, clock);
    docker.start();
    try {
      await until(() => fake.wakes.length === 1);
      assert.equal(docker.status.lastError?.code, 'BERTH_E_DOCKER_UNREACHABLE');
      fake.wakes[0]!();
      await docker.whenSynced();
      assert.equal(fake.attempts(), 2);
      assert.equal(docker.status.connected, true);
      assert.equal(docker.status.reconnects, 1);
      assert.equal(fake.watchesStopped(), 1, 'the watch ends with the wait');
    } finally {
      docker.stop();
    }
  });

  it('starts the backoff over when the socket appears before the daemon accepts on it', async () => {
    const { clock, pending } = manualClock();
    const fake = flakyClient(['ENOENT', 'ENOENT', 'ENOENT', 'ENOENT', 'ECONNREFUSED']);
    const docker = provider(fake.client, clock);
    docker.start();
    try {
      // Four failures grow the backoff.
      for (let failed = 1; failed < 4; failed++) {
        await until(() => fake.wakes.length === failed);
        pending().at(-1)!.fire();
      }
      await until(() => fake.wakes.length === 4);
      const grown = pending().at(-1)!.ms;
      fake.wakes[3]!();
      await until(() => fake.wakes.length === 5);
      const next = pending().at(-1)!.ms;
      assert.ok(next <= 100 && next < grown, `after the wake the next wait is ${next} ms, was ${grown} ms`);
      pending().at(-1)!.fire();
      await docker.whenSynced();
      assert.equal(docker.status.connected, true);
    } finally {
      docker.stop();
    }
  });
});
