// The Docker side misbehaving for real: a relay in front of the engine's socket re-chunks, tampers
// with, cuts, refuses, silences and fails what berth asks for; a private dockerd is restarted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeLoopbackPort } from '../support/ports.js';
import { request, startBerth, startSyncedBerth, type RunningBerth } from '../support/berth.js';
import { cleanup, docker, runHttpd, uniqueName, waitFor, type Container } from '../support/docker.js';
import { DockerRelay } from '../support/docker-relay.js';
import { busyboxImage } from '../support/images.js';
import { PrivateDockerd } from '../support/private-dockerd.js';

// A label with multi-byte characters: the engine repeats it in every event about the container.
const LABELS = { 'berth.port': '80', note: 'ünïcødé ⛴ 🚢 中文 ✓' };

interface DockerState {
  connected: boolean;
  synced: boolean;
  lastSyncAt: string | null;
  eventsSeen: number;
  resyncs: number;
  reconnects: number;
  lastError: { code: string; message: string } | null;
}

async function dockerState(berth: RunningBerth): Promise<DockerState> {
  return (await berth.admin<{ sources: { docker: DockerState } }>('/api/status')).sources.docker;
}

async function metric(berth: RunningBerth, name: string): Promise<number> {
  const { body } = await request({ port: berth.adminPort, path: '/metrics', method: 'GET', headers: {}, timeoutMs: 5000 });
  const line = body.split('\n').find((text) => text.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no ${name} in /metrics`);
  return Number(line.split(' ')[1]);
}

function codesLogged(berth: RunningBerth, code: string): number {
  return berth.logs.filter((line) => line['code'] === code).length;
}

/**
 * When berth logged the first route table change since `since` that added or removed the host
 * (its log can reach this process a little after the change shows in its API).
 */
async function swappedAt(berth: RunningBerth, change: 'added' | 'removed', host: string, since: number): Promise<number> {
  const line = await waitFor(
    async () => berth.logs.find((log) => log.msg === 'route table changed' && (log['time'] as number) >= since && (log[change] as string[]).some((route) => route.startsWith(`${host} `))),
    { what: `berth logging a table change that ${change} ${host}`, timeoutMs: 5000, intervalMs: 20 },
  );
  return line['time'] as number;
}

/** A labelled httpd answering its own name at `<name>.test`. */
async function labelledHttpd(image: string, prefix: string): Promise<Container & { host: string }> {
  const name = uniqueName(prefix);
  const host = `${name}.test`;
  const container = await runHttpd({ image, name, labels: { ...LABELS, 'berth.host': host } });
  return { ...container, host };
}

async function answers(berth: RunningBerth, host: string, body: string): Promise<boolean> {
  const response = await berth.request(host, '/', { timeoutMs: 2000 });
  return response.status === 200 && response.body === body;
}

async function routed(berth: RunningBerth, app: Container & { host: string }, timeoutMs = 10_000): Promise<void> {
  await waitFor(() => answers(berth, app.host, app.name), { what: `${app.host} answering through berth`, timeoutMs, intervalMs: 20 });
}

async function unrouted(berth: RunningBerth, host: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(async () => (await berth.endpointsOf(host)).length === 0, { what: `${host} gone from berth's table`, timeoutMs, intervalMs: 20 });
}

/** Runs `during` while requesting one host over and over; resolves with every status seen. */
async function statusesDuring(berth: RunningBerth, host: string, during: () => Promise<void>): Promise<number[]> {
  const statuses: number[] = [];
  let going = true;
  const asking = (async () => {
    while (going) {
      statuses.push(await berth.request(host, '/', { timeoutMs: 2000 }).then((response) => response.status, () => 0));
      await sleep(25);
    }
  })();
  try {
    await during();
  } finally {
    going = false;
    await asking;
  }
  return statuses;
}


describe('an events stream cut into random pieces, with bad lines in it', () => {
  let image: string;
  let relay: DockerRelay;
  let berth: RunningBerth;

  before(async () => {
    image = await busyboxImage();
    relay = await DockerRelay.start({ chop: true });
    berth = await startSyncedBerth(['--docker-host', relay.dockerHost]);
  });

  after(async () => {
    await berth?.stop();
    await relay?.close();
    await cleanup();
  });

  it('follows a container started and one stopped, reads every good line once, and logs each bad one', async () => {
    const stays = await labelledHttpd(image, 'chop-stays');
    const leaves = await labelledHttpd(image, 'chop-leaves');
    await routed(berth, stays);
    await routed(berth, leaves);

    const malformed = ['{"Type":"container","Action":', 'not json at all'];
    const huge = JSON.stringify({ Type: 'container', Action: 'update', Actor: { ID: stays.id, Attributes: { blob: 'x'.repeat(1_200_000) } } });
    const strange = [
      JSON.stringify({ Type: 'container', Action: 'exec_create: sh -c true', Actor: { ID: stays.id, Attributes: { name: stays.name } } }),
      JSON.stringify({ Type: 'plugin', Action: 'enable', Actor: { ID: 'p1', Attributes: {} } }),
      JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: '0'.repeat(64), Attributes: { note: '🚢' } } }),
    ];
    relay.inject([malformed[0]!, ...strange, huge, malformed[1]!]);
    await docker('stop', leaves.name);
    const arrives = await labelledHttpd(image, 'chop-arrives');

    await routed(berth, arrives);
    await unrouted(berth, leaves.host);
    assert.ok(await answers(berth, stays.host, stays.name), 'the untouched container still answers');

    // Every line the relay finished writing is one event for berth, but the three bad ones.
    const settled = await waitFor(
      async () => {
        const seen = (await dockerState(berth)).eventsSeen;
        return seen === relay.eventStats.lines - 3 && seen;
      },
      { what: `berth counting ${relay.eventStats.lines - 3} events (relay seed ${relay.seed})`, timeoutMs: 5000 },
    );
    assert.ok(settled > strange.length);
    await waitFor(async () => codesLogged(berth, 'BERTH_E_DOCKER_EVENT_LINE') === 3, { what: 'three BERTH_E_DOCKER_EVENT_LINE log lines', timeoutMs: 5000 });
    assert.ok(berth.logs.some((line) => line['code'] === 'BERTH_E_DOCKER_EVENT_LINE' && Number(line['bytes']) > 1024 * 1024), 'the huge line is reported with its size');

    const { splitsInsideCharacter, splitsInsideLine, piecesWithSeveralLines } = relay.eventStats;
    assert.ok(splitsInsideCharacter > 0 && splitsInsideLine > 0 && piecesWithSeveralLines > 0, `faults shown: ${JSON.stringify(relay.eventStats)}`);
    assert.equal((await dockerState(berth)).reconnects, 0, 'bad lines do not cost the stream');
    assert.equal((await berth.adminStatus('/healthz')), 200);
  });

  it('keeps a restarted container in its pool when the restart\'s events arrive reversed and twice', async () => {
    const app = await labelledHttpd(image, 'chop-restart');
    await routed(berth, app);
    relay.holdEvents();
    await docker('restart', '--time', '5', app.name);
    await waitFor(async () => relay.heldEventLines.some((line) => line.includes(app.id) && line.includes('"Action":"restart"')), {
      what: 'the restart event held by the relay',
      timeoutMs: 5000,
    });
    const seenBefore = (await dockerState(berth)).eventsSeen;
    const held = relay.heldEventLines.length;
    relay.releaseEvents({ reverse: true, duplicate: true });
    await waitFor(async () => (await dockerState(berth)).eventsSeen >= seenBefore + 2 * held, { what: `berth reading the ${2 * held} released events`, timeoutMs: 5000 });
    // Reversed, a stale kill and stop come after the start: once berth has rebuilt, the running container must be ready.
    await sleep(1000);
    const [endpoint] = await berth.endpointsOf(app.host);
    assert.equal(endpoint?.ready, true, `endpoint: ${JSON.stringify(endpoint)}`);
    assert.ok(await answers(berth, app.host, app.name));
  });
});

describe('the Docker API going away while containers change', () => {
  let image: string;
  let relay: DockerRelay;
  let berth: RunningBerth;
  let stays: Container & { host: string };

  before(async () => {
    image = await busyboxImage();
    relay = await DockerRelay.start();
    berth = await startSyncedBerth(['--docker-host', relay.dockerHost]);
    stays = await labelledHttpd(image, 'out-stays');
    await routed(berth, stays);
  });

  after(async () => {
    await berth?.stop();
    await relay?.close();
    await cleanup();
  });

  /**
   * One outage: the API goes away, berth notices and shows it, a container stops and another
   * starts, the API comes back. Resolves with the time from its return to berth matching reality.
   */
  async function outage(how: 'socket missing' | 'refused'): Promise<number> {
    const leaves = await labelledHttpd(image, 'out-leaves');
    await routed(berth, leaves);
    const before = await dockerState(berth);

    const wentAway = Date.now();
    if (how === 'socket missing') {
      await relay.cut();
      assert.equal(await relay.socketExists(), false);
    } else {
      relay.refuse(true);
    }
    const down = await waitFor(async () => {
      const state = await dockerState(berth);
      return !state.connected && state.lastError !== null && state.reconnects >= before.reconnects + 2 && state;
    }, { what: `berth noticing the outage (${how})` });
    assert.equal(down.lastError?.code, 'BERTH_E_DOCKER_UNREACHABLE');
    assert.equal(await metric(berth, 'berth_docker_connected'), 0);
    assert.ok((await metric(berth, 'berth_docker_reconnects_total')) >= before.reconnects + 2);

    await docker('stop', leaves.name);
    const arrives = await labelledHttpd(image, 'out-arrives');
    // More failed attempts, so the backoff grows as in a real outage of a few seconds.
    await sleep(1500);
    assert.ok((await berth.endpointsOf(leaves.host)).length > 0, 'the stale route stays while Docker cannot say otherwise');
    if (how === 'refused') assert.ok(relay.refusedConnections > 0);

    // Backoff: a few attempts, not one every few milliseconds.
    const attempts = (await dockerState(berth)).reconnects - before.reconnects;
    const outageMs = Date.now() - wentAway;
    assert.ok(attempts <= 2 + outageMs / 300, `${attempts} attempts in ${outageMs} ms`);

    const back = Date.now();
    if (how === 'socket missing') await relay.resume();
    else relay.refuse(false);
    await waitFor(
      async () => (await berth.endpointsOf(leaves.host)).length === 0 && (await answers(berth, arrives.host, arrives.name)),
      { what: `berth matching reality after the API came back (${how})`, timeoutMs: 15_000, intervalMs: 10 },
    );
    // Timed by berth's own log of the table swaps, not by this test's polling.
    const ms = Math.max(await swappedAt(berth, 'added', arrives.host, back), await swappedAt(berth, 'removed', leaves.host, back)) - back;
    const upAgain = await dockerState(berth);
    assert.equal(upAgain.connected, true);
    assert.equal(upAgain.lastError, null);
    assert.equal(await metric(berth, 'berth_docker_connected'), 1);
    await docker('stop', arrives.name);
    return ms;
  }

  for (const how of ['socket missing', 'refused'] as const) {
    it(`serves the last good routes while the API is ${how}, shows the outage, and matches reality within a second of its return`, async () => {
      const samples: number[] = [];
      const statuses = await statusesDuring(berth, stays.host, async () => {
        for (let i = 0; i < 3; i++) samples.push(await outage(how));
      });
      process.stdout.write(`# resync after the API returned (${how}): ${samples.join(' ms, ')} ms\n`);
      assert.ok(statuses.length > 50, `asked ${statuses.length} times`);
      assert.deepEqual(statuses.filter((status) => status !== 200), [], 'the last good route answered throughout');
      // How soon berth tries again after the API is back is bounded by the reconnect backoff's cap.
      for (const ms of samples) assert.ok(ms < 1000, `resync took ${ms} ms after the API returned (samples: ${samples.join(', ')} ms)`);
    });
  }

  it('logs each outage once, with its code', () => {
    assert.equal(codesLogged(berth, 'BERTH_E_DOCKER_UNREACHABLE'), 6);
  });
});

describe('a silent events stream', () => {
  let image: string;
  let relay: DockerRelay;
  let berth: RunningBerth;

  before(async () => {
    image = await busyboxImage();
    relay = await DockerRelay.start();
    berth = await startSyncedBerth(['--docker-host', relay.dockerHost, '--resync-interval', '500ms']);
  });

  after(async () => {
    await berth?.stop();
    await relay?.close();
    await cleanup();
  });

  it('is detected and replaced, and a container started meanwhile is routed', async () => {
    const streamsAsked = () => relay.asked.filter((asked) => asked.path.endsWith('/events')).length;
    const streamsBefore = streamsAsked();
    relay.silenceEvents();
    const app = await labelledHttpd(image, 'silent');
    await routed(berth, app, 5000);
    await waitFor(async () => codesLogged(berth, 'BERTH_W_DOCKER_STREAM_SILENT') > 0, { what: 'BERTH_W_DOCKER_STREAM_SILENT logged', timeoutMs: 5000 });
    await waitFor(async () => streamsAsked() > streamsBefore && (await dockerState(berth)).connected, { what: 'a new events stream', timeoutMs: 5000 });
    assert.ok((await dockerState(berth)).reconnects >= 1);

    // The new stream carries events again.
    const seen = (await dockerState(berth)).eventsSeen;
    await docker('stop', app.name);
    await waitFor(async () => (await dockerState(berth)).eventsSeen > seen, { what: 'events on the new stream', timeoutMs: 5000 });
    await unrouted(berth, app.host, 5000);
  });
});

describe('error answers from the Docker API', () => {
  let image: string;
  let relay: DockerRelay;

  before(async () => {
    image = await busyboxImage();
    relay = await DockerRelay.start();
  });

  after(async () => {
    await relay?.close();
    await cleanup();
  });

  /** Runs a test against its own berth through the relay, stopped afterwards whatever happens. */
  async function withBerth(args: string[], test: (berth: RunningBerth) => Promise<void>, synced = true): Promise<void> {
    const all = ['--docker-host', relay.dockerHost, '--resync-interval', '1h', ...args];
    const berth = synced ? await startSyncedBerth(all) : await startBerth(all);
    try {
      await test(berth);
    } finally {
      await berth.stop();
    }
  }

  it('keeps the last good routes when /containers/json fails once, and recovers on the next event', () =>
    withBerth([], async (berth) => {
      const first = await labelledHttpd(image, 'err-first');
      await routed(berth, first);

      relay.failNext(/^\/containers\/json$/);
      const second = await labelledHttpd(image, 'err-second');
      await waitFor(async () => codesLogged(berth, 'BERTH_E_DOCKER_LIST') > 0, { what: 'BERTH_E_DOCKER_LIST logged' });
      assert.equal(relay.pendingFailures, 0);
      assert.ok(await answers(berth, first.host, first.name), 'the last good route still answers');
      await routed(berth, second, 5000);
      assert.equal((await dockerState(berth)).resyncs, 0, 'recovered without a periodic resync');
    }));

  it('reconnects after a 500 from /events and routes what changed meanwhile', () =>
    withBerth([], async (berth) => {
      relay.failNext(/^\/events$/);
      await relay.cut();
      await relay.resume();
      const app = await labelledHttpd(image, 'err-events');
      await routed(berth, app);
      assert.equal(relay.pendingFailures, 0, 'the 500 was answered');
      const state = await dockerState(berth);
      assert.ok(state.reconnects >= 2, `reconnects: ${state.reconnects}`);
      assert.equal(state.connected, true);
    }));

  it('shows BERTH_E_DOCKER_API_TOO_OLD for a daemon claiming API 1.12, keeps retrying, and connects once it is newer', async () => {
    relay.claimApiVersion('1.12');
    const lists = () => relay.asked.filter((asked) => asked.path.endsWith('/containers/json')).length;
    const listsBefore = lists();
    await withBerth(
      [],
      async (berth) => {
        const state = await waitFor(async () => {
          const current = await dockerState(berth);
          return current.lastError?.code === 'BERTH_E_DOCKER_API_TOO_OLD' && current.reconnects >= 3 && current;
        }, { what: 'three attempts failing with BERTH_E_DOCKER_API_TOO_OLD' });
        assert.equal(state.connected, false);
        assert.equal(await berth.adminStatus('/readyz'), 503);
        assert.equal(lists(), listsBefore, 'never listed on a too-old API');

        relay.claimApiVersion(null);
        await waitFor(async () => (await berth.adminStatus('/readyz')) === 200, { what: 'berth ready once the API is new enough' });
        assert.equal((await dockerState(berth)).lastError, null);
      },
      false,
    );
  });
});

describe('least privilege', () => {
  let image: string;
  let relay: DockerRelay;
  let berth: RunningBerth;

  before(async () => {
    image = await busyboxImage();
    relay = await DockerRelay.start({ allowOnly: true });
    // The Docker source's four GETs; the swarm source adds /info and, on a manager, three more.
    berth = await startSyncedBerth(['--docker-host', relay.dockerHost, '--swarm=false']);
  });

  after(async () => {
    await berth?.stop();
    await relay?.close();
    await cleanup();
  });

  it('routes a container and follows its stop through a relay that allows only four GETs, and asks for nothing else', async () => {
    const app = await labelledHttpd(image, 'least');
    await routed(berth, app);
    await docker('stop', app.name);
    await unrouted(berth, app.host);
    assert.equal((await berth.request(app.host)).status, 404);

    assert.deepEqual(relay.asked.filter((asked) => !asked.allowed), [], 'nothing outside the four GETs was asked for');
    const asked = new Set(relay.asked.map((entry) => `${entry.method} ${entry.path.replace(/^\/v\d+\.\d+/, '')}`));
    assert.deepEqual([...asked].sort(), ['GET /_ping', 'GET /containers/json', 'GET /events', 'GET /version']);
  });
});

describe('a real daemon restart with --live-restore', () => {
  let dockerd: PrivateDockerd;
  let berth: RunningBerth;
  let image: string;

  before(async () => {
    image = await busyboxImage();
    dockerd = await PrivateDockerd.start();
    await dockerd.importImage(image);
    berth = await startSyncedBerth(['--docker-host', dockerd.host]);
  });

  after(async () => {
    await berth?.stop();
    await dockerd?.destroy();
  });

  /** busybox httpd on the host network, on 127.0.0.1 at a free port, labelled for berth. */
  async function hostHttpd(prefix: string): Promise<{ name: string; host: string }> {
    const name = uniqueName(prefix);
    const port = await freeLoopbackPort();
    const host = `${name}.test`;
    await dockerd.docker(
      'run', '-d', '--init', '--name', name, '--network', 'host',
      '--label', `berth.host=${host}`, '--label', `berth.port=${port}`,
      image, 'sh', '-c', `printf %s ${name} > /www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /www`,
    );
    return { name, host };
  }

  it('serves the route while the daemon stops and starts, and resyncs once it is back', async () => {
    const app = await hostHttpd('live');
    await waitFor(() => answers(berth, app.host, app.name), { what: `${app.host} answering` });
    const statuses = await statusesDuring(berth, app.host, async () => {
      await dockerd.stopDaemon();
      const down = await waitFor(async () => {
        const state = await dockerState(berth);
        return !state.connected && state.lastError !== null && state;
      }, { what: 'berth noticing the daemon is gone' });
      assert.equal(down.lastError?.code, 'BERTH_E_DOCKER_UNREACHABLE');
      await sleep(1000);
      const restartedAt = Date.now();
      await dockerd.startDaemon();
      const answeredAt = Date.now();
      const resynced = await waitFor(async () => {
        const state = await dockerState(berth);
        return state.connected && state.lastSyncAt !== null && Date.parse(state.lastSyncAt) >= restartedAt && state;
      }, { what: 'a resync after the daemon restart', intervalMs: 10 });
      const syncedAt = Date.parse(resynced.lastSyncAt!);
      process.stdout.write(`# daemon restart: answering ${answeredAt - restartedAt} ms after start, berth resynced ${syncedAt - answeredAt} ms after that\n`);
      assert.ok(syncedAt - answeredAt < 1000, `berth resynced ${syncedAt - answeredAt} ms after the daemon answered`);
      assert.ok(resynced.reconnects >= 1, `reconnects: ${resynced.reconnects}`);
      assert.ok(await answers(berth, app.host, app.name));

      // The new stream follows changes: a container started after the restart is routed.
      const next = await hostHttpd('live-next');
      await waitFor(() => answers(berth, next.host, next.name), { what: `${next.host} answering after the restart` });
    });
    assert.ok(statuses.length > 20, `asked ${statuses.length} times`);
    assert.deepEqual(statuses.filter((status) => status !== 200), [], 'the route answered throughout the restart');
  });
});
