// Routes from Redis and etcd: time from a key's write to the first 200 on its route, in an empty
// store and as one changed entry among 10,000 (real redis-server and etcd on loopback).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@redis/client';
import { b64, EtcdServer } from '../test/support/etcd-server.js';
import { RedisServer } from '../test/support/redis-server.js';
import type { Benchmark, BenchContext, TargetResult } from './benchmark.js';
import { launchBerth, type BenchBerth } from './berth.js';
import { onCleanup } from './cleanup.js';
import { pollUntil, wallClock } from './http.js';
import { median, summarize } from './stats.js';

const MANY = 10_000;
const TARGET_MS = 50;

interface Store {
  readonly name: 'redis' | 'etcd';
  readonly args: readonly string[];
  /** Writes `count` routes to the origin at once (the crowd the measured change is one of). */
  fill(count: number, port: number): Promise<void>;
  /** Makes `host` a route to the origin; `prepared`: `prepare` made its key already. */
  write(host: string, port: number, prepared: boolean): Promise<void>;
  /** Prepares a key for `write` to change, when the store has that notion. */
  prepare(host: string): Promise<void>;
  stop(): Promise<void>;
}

async function redisStore(): Promise<Store> {
  const server = await RedisServer.start();
  const client = createClient({ url: server.url });
  client.on('error', () => undefined);
  await client.connect();
  return {
    name: 'redis',
    args: ['--redis', server.url],
    async fill(count, port) {
      for (let start = 0; start < count; start += 1000) {
        await Promise.all(Array.from({ length: Math.min(1000, count - start) }, (_, i) => client.sendCommand(['RPUSH', `frontend:crowd${start + i}.bench.test`, 'crowd', `http://127.0.0.1:${port}`])));
      }
    },
    // A frontend with its identifier alone has no backend yet: the change gives it one.
    prepare: async (host) => void (await client.sendCommand(['RPUSH', `frontend:${host}`, 'changed'])),
    write: async (host, port, prepared) => void (await client.sendCommand(['RPUSH', `frontend:${host}`, ...(prepared ? [] : ['site']), `http://127.0.0.1:${port}`])),
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}

async function etcdStore(): Promise<Store> {
  const server = await EtcdServer.start();
  return {
    name: 'etcd',
    args: ['--etcd', server.url],
    async fill(count, port) {
      // etcd takes up to 128 operations per transaction by default.
      for (let start = 0; start < count; start += 128) {
        const ops = Array.from({ length: Math.min(128, count - start) }, (_, i) => ({ request_put: { key: b64(`/hosts/crowd${start + i}.bench.test/127.0.0.1:${port}`), value: b64('') } }));
        await server.call('/v3/kv/txn', { success: ops });
      }
    },
    prepare: async () => undefined,
    write: async (host, port) => void (await server.put(`/hosts/${host}/127.0.0.1:${port}`, '')),
    stop: () => server.stop(),
  };
}

/** Write -> first 200 for `runs` fresh hosts; with `prepared`, each host's key exists before the write. */
async function measure(store: Store, berth: BenchBerth, port: number, label: string, runs: number, prepared: boolean): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const host = `${label}${i}.bench.test`;
    if (prepared) await store.prepare(host);
    // Time for the preparation (if any) to be read, so only the change itself is measured.
    await sleep(100);
    const written = wallClock();
    await store.write(host, port, prepared);
    const live = await pollUntil(berth.proxyPort, host, (status) => status === 200, 5000);
    samples.push(live.at - written);
    await sleep(50);
  }
  return samples;
}

async function waitForKeys(berth: BenchBerth, name: string, keys: number): Promise<number> {
  const started = wallClock();
  for (let i = 0; i < 600; i++) {
    const status = await berth.admin<{ sources: Record<string, { keys: number }> }>('/api/status');
    if ((status.sources[name]?.keys ?? 0) >= keys) return wallClock() - started;
    await sleep(50);
  }
  throw new Error(`berth did not read ${keys} ${name} keys within 30 s`);
}

export const stores: Benchmark = {
  name: 'stores',
  title: 'Redis and etcd: key write -> first 200 on its route',
  docker: false,
  async run(context: BenchContext): Promise<TargetResult[]> {
    const runs = context.quick ? 10 : 30;
    const upstream = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => upstream.close(() => resolve())));
    const port = (upstream.address() as AddressInfo).port;
    const targets: TargetResult[] = [];
    for (const open of [redisStore, etcdStore]) {
      const store = await open();
      onCleanup(() => store.stop());
      const berth = await launchBerth({ args: ['--no-docker', '--access-log=false', ...store.args] });
      try {
        const empty = await measure(store, berth, port, `${store.name}-new`, runs, false);
        console.log(`${store.name}: key write -> first 200, nearly empty store, ${summarize(empty)}`);
        await store.fill(MANY, port);
        const readIn = await waitForKeys(berth, store.name, MANY);
        console.log(`${store.name}: ${MANY} keys written and read by berth ${readIn.toFixed(0)} ms after the last write`);
        const crowd = await measure(store, berth, port, `${store.name}-changed`, runs, store.name === 'redis');
        console.log(`${store.name}: one changed entry among ${MANY} -> first 200, ${summarize(crowd)}`);
        const p50 = median(crowd);
        targets.push({ target: `${store.name}: one changed entry among ${MANY} live (p50) < ${TARGET_MS} ms`, measured: `${p50.toFixed(1)} ms`, met: p50 < TARGET_MS });
      } finally {
        await berth.stop();
        await store.stop();
      }
    }
    return targets;
  },
};
