// Following Redis: subscribe first (keyspace events on berth's prefixes where the server lets
// berth turn them on, and berth:changed), then read everything, so no change falls in the gap.
// A changed key is read alone; a full read backs it all up (every 30 s, or every second when the
// server allows no notifications). One queue runs both, so a slow full read never undoes a newer
// key. A ping with a deadline tells a paused server from a quiet one.
import { createClient } from '@redis/client';
import type { Logger } from 'pino';
import { Codes } from '../../errors.js';
import { createCoalescer } from '../../util/coalescer.js';
import { messageOf, type StoreConnector, type StoreSession, type StoreSink } from '../provider.js';
import { CHANGED_CHANNEL, DEAD_PREFIX, FRONTEND_PREFIX, READ_PREFIXES, ROUTE_PREFIX, watchedKeyOf, type RedisValue } from './keys.js';
import { keyOfChannel, keyspacePatterns, withBerthFlags } from './notifications.js';

export interface RedisConnectorOptions {
  readonly url: string;
  readonly logger: Logger;
  readonly resyncMs?: number;
  readonly scanMs?: number;
  readonly pingMs?: number;
  /** Deadline of each command; a server that does not answer within it is taken as down. */
  readonly timeoutMs?: number;
}

type Client = ReturnType<typeof createClient>;

export class RedisConnector implements StoreConnector {
  private readonly db: number;
  private mode: string | null = null;

  constructor(private readonly options: RedisConnectorOptions) {
    this.db = Number(new URL(options.url).pathname.slice(1) || '0');
  }

  async open(sink: StoreSink): Promise<StoreSession> {
    const { logger } = this.options;
    const timeout = this.options.timeoutMs ?? 2000;
    const client: Client = createClient({ url: this.options.url, socket: { connectTimeout: timeout, reconnectStrategy: false } });
    const subscriber: Client = client.duplicate();
    const timers: NodeJS.Timeout[] = [];
    let closed = false;
    let end!: (why: 'broken') => void;
    const ended = new Promise<'broken'>((resolve) => (end = resolve));
    const close = () => {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearInterval(timer);
      for (const each of [client, subscriber]) {
        try {
          each.destroy();
        } catch {}
      }
      end('broken');
    };
    const broken = (error: unknown) => {
      if (!closed) logger.debug({ err: messageOf(error) }, 'the Redis connection broke');
      close();
    };
    client.on('error', broken);
    subscriber.on('error', broken);
    client.on('end', () => close());
    subscriber.on('end', () => close());
    // Our own deadline: node-redis's `timeout` lets a command already written wait forever on a
    // paused server. A late reply cannot be mistaken for another: a missed deadline ends the connection.
    const run = (words: string[]) => deadline(client.sendCommand(words), words[0] === 'PING' ? timeout : timeout * 5, words[0]!);

    try {
      await deadline(client.connect(), timeout, 'connecting');
      await deadline(subscriber.connect(), timeout, 'connecting');
      await run(['PING']);
      const notifications = await this.enableNotifications(run);
      const following = notifications === true ? 'keyspace notifications' : 'a scan every second';
      sink.fact('follows', following);
      if (following !== this.mode) {
        this.mode = following;
        if (notifications === true) logger.info({ patterns: keyspacePatterns(this.db, [...READ_PREFIXES, DEAD_PREFIX]) }, 'Redis keyspace notifications are on for berth\'s keys: changes are followed as they happen');
        else logger.warn({ code: Codes.redisNotifications, reason: notifications }, 'Redis does not let berth turn on keyspace notifications; berth scans its keys every second instead');
      }

      const dirty = new Set<string>();
      let full = true;
      const work = createCoalescer(
        async () => {
          if (full) {
            full = false;
            dirty.clear();
            sink.replaceAll(await readAll(run));
            return;
          }
          const keys = [...dirty];
          dirty.clear();
          const values = await Promise.all(keys.map((key) => readKey(run, key)));
          sink.put(keys.map((key, index) => [key, values[index]!] as const));
        },
        (error) => {
          if (!closed) logger.error({ code: Codes.storeRead, err: messageOf(error) }, 'reading Redis failed; keeping the last good routes');
          broken(error);
        },
      );
      const reread = () => {
        full = true;
        void work.request();
      };

      if (notifications === true) {
        await subscriber.pSubscribe(keyspacePatterns(this.db, [...READ_PREFIXES, DEAD_PREFIX]), (_event: string, channel: string) => {
          const key = keyOfChannel(this.db, channel);
          const watched = key === null ? null : watchedKeyOf(key);
          if (watched === null) return;
          dirty.add(watched);
          void work.request();
        });
      }
      await subscriber.subscribe(CHANGED_CHANNEL, () => reread());
      await work.request();
      if (closed) throw new Error('the connection broke during the first read');

      timers.push(setInterval(reread, notifications === true ? (this.options.resyncMs ?? 30_000) : (this.options.scanMs ?? 1000)));
      timers.push(setInterval(() => void run(['PING']).catch(broken), this.options.pingMs ?? 1000));
    } catch (error) {
      close();
      throw error;
    }
    return { ended, close };
  }

  /** True when keyspace notifications cover berth's keys; else why not. */
  private async enableNotifications(run: (words: string[]) => Promise<unknown>): Promise<true | string> {
    try {
      const reply = await run(['CONFIG', 'GET', 'notify-keyspace-events']);
      const current = Array.isArray(reply) ? String(reply[1] ?? '') : String((reply as Record<string, unknown>)['notify-keyspace-events'] ?? '');
      const wanted = withBerthFlags(current);
      if (wanted !== current) await run(['CONFIG', 'SET', 'notify-keyspace-events', wanted]);
      return true;
    } catch (error) {
      return messageOf(error);
    }
  }
}

type Run = (words: string[]) => Promise<unknown>;

/** Every key under berth's prefixes, key -> raw value (see RedisValue). */
async function readAll(run: Run): Promise<Map<string, string>> {
  const keys = new Set<string>();
  for (const prefix of READ_PREFIXES) {
    let cursor = '0';
    // Bounded: SCAN ends when the cursor comes back to 0; the cap only guards against a broken server.
    for (let rounds = 0; rounds < 1_000_000; rounds++) {
      const [next, found] = (await run(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])) as [string, string[]];
      for (const key of found) if (watchedKeyOf(key) === key) keys.add(key);
      cursor = String(next);
      if (cursor === '0') break;
    }
  }
  const list = [...keys];
  // Issued together: node-redis sends commands of the same tick as one pipeline.
  const values = await Promise.all(list.map((key) => readKey(run, key)));
  const all = new Map<string, string>();
  list.forEach((key, index) => {
    const value = values[index];
    if (value !== null && value !== undefined) all.set(key, value);
  });
  return all;
}

/** One key's raw value, or null when it is gone. */
async function readKey(run: Run, key: string): Promise<string | null> {
  const value = await readValue(run, key);
  return value === null ? null : JSON.stringify(value);
}

async function readValue(run: Run, key: string): Promise<RedisValue | null> {
  try {
    if (key.startsWith(FRONTEND_PREFIX)) {
      const name = key.slice(FRONTEND_PREFIX.length);
      const [list, dead] = await Promise.all([run(['LRANGE', key, '0', '-1']), run(['SMEMBERS', DEAD_PREFIX + name]).catch(() => [])]);
      return (list as string[]).length === 0 ? null : { list: list as string[], dead: [...(dead as string[])].sort() };
    }
    if (key.startsWith(ROUTE_PREFIX)) {
      const text = await run(['GET', key]);
      return text === null ? null : { text: String(text) };
    }
    return null;
  } catch (error) {
    if (!messageOf(error).startsWith('WRONGTYPE')) throw error;
    return { type: String(await run(['TYPE', key])) };
  }
}

function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms while ${what}`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
