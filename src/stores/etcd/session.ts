// Following etcd: range berth's prefixes at one revision, then watch each from the next one, so
// nothing falls in the gap. A compacted revision or a cancelled watch means a full read at once;
// a broken stream or a ping past its deadline (a paused server) means etcd is down; a full read
// every 30 s backs the watch up, and an expired auth token means a new one with a full read.
import type { Logger } from 'pino';
import { Codes } from '../../errors.js';
import { messageOf, type StoreConnector, type StoreSession, type StoreSink } from '../provider.js';
import { EtcdGateway, GatewayError, type GatewayOptions, type Json, type WatchStream } from './gateway.js';
import { ETCD_PREFIXES } from './keys.js';

export interface EtcdConnectorOptions extends Omit<GatewayOptions, 'timeoutMs'> {
  readonly logger: Logger;
  readonly pingMs?: number;
  readonly timeoutMs?: number;
  /** A full read this often, as Redis has: a watch whose connection died silently misses changes. */
  readonly resyncMs?: number;
}

interface KeyValue {
  readonly key?: string;
  readonly value?: string;
}

export class EtcdConnector implements StoreConnector {
  private readonly gateway: EtcdGateway;
  private refusal: string | null = null;

  constructor(private readonly options: EtcdConnectorOptions) {
    this.gateway = new EtcdGateway({ ...options, timeoutMs: options.timeoutMs ?? 2000 });
  }

  async open(sink: StoreSink): Promise<StoreSession> {
    const { logger } = this.options;
    try {
      await this.gateway.authenticate();
    } catch (error) {
      // Once per refusal, not at every reconnect.
      if (error instanceof GatewayError && error.message !== this.refusal) logger.error({ code: Codes.etcdAuth, user: this.options.user, err: error.message }, 'etcd refused berth\'s user and password');
      if (error instanceof GatewayError) this.refusal = error.message;
      throw error;
    }
    this.refusal = null;
    const all = new Map<string, string>();
    let revision: number | null = null;
    for (const prefix of ETCD_PREFIXES) {
      // The first range fixes the revision; the others read at it, so all is one moment's picture.
      const reply = await this.gateway.call('/v3/kv/range', { key: b64(prefix), range_end: b64(prefixEnd(prefix)), ...(revision !== null ? { revision: String(revision) } : {}) }, 10_000);
      revision ??= Number((reply['header'] as Json | undefined)?.['revision'] ?? 0);
      for (const kv of (reply['kvs'] as KeyValue[] | undefined) ?? []) all.set(unb64(kv.key), unb64(kv.value));
    }
    sink.replaceAll(all);
    sink.fact('revision', revision);

    let finish!: (why: 'broken' | 'reread') => void;
    let closed = false;
    const ended = new Promise<'broken' | 'reread'>((resolve) => (finish = resolve));
    const streams: WatchStream[] = [];
    const close = (why: 'broken' | 'reread' = 'broken') => {
      if (closed) return;
      closed = true;
      clearInterval(ping);
      clearInterval(resync);
      for (const stream of streams) stream.close();
      finish(why);
    };
    for (const prefix of ETCD_PREFIXES) {
      const body = { create_request: { key: b64(prefix), range_end: b64(prefixEnd(prefix)), start_revision: String(revision! + 1) } };
      const stream = this.gateway.watch(body, (result) => {
        if (closed) return;
        const compacted = Number(result['compact_revision'] ?? 0);
        if (result['canceled'] === true || compacted > 0) {
          logger.warn({ code: Codes.etcdCompacted, compactRevision: compacted || undefined, reason: result['cancel_reason'] }, 'the etcd watch was cancelled (history compacted past it); reading everything again');
          return close('reread');
        }
        const events = (result['events'] as Array<{ type?: string; kv?: KeyValue }> | undefined) ?? [];
        if (events.length > 0) sink.put(events.map((event) => [unb64(event.kv?.key), event.type === 'DELETE' ? null : unb64(event.kv?.value)] as const));
        const now = Number((result['header'] as Json | undefined)?.['revision'] ?? 0);
        if (now > 0) sink.fact('revision', now);
      });
      streams.push(stream);
      void stream.ended.then((why) => {
        if (!closed) logger.debug({ why }, 'the etcd watch ended');
        close('broken');
      });
    }
    const ping = setInterval(() => {
      this.gateway.call('/v3/kv/range', { key: b64(ETCD_PREFIXES[0]), count_only: true }).catch((error: unknown) => {
        // An expired auth token is no outage: authenticate again with a full read, quietly.
        if (error instanceof GatewayError && error.status === 401) return close('reread');
        if (!closed) logger.debug({ err: messageOf(error) }, 'etcd did not answer a ping');
        close('broken');
      });
    }, this.options.pingMs ?? 1000);
    const resync = setInterval(() => close('reread'), this.options.resyncMs ?? 30_000);
    return { ended, close: () => close() };
  }
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string | undefined): string => (text === undefined ? '' : Buffer.from(text, 'base64').toString('utf8'));

/** The end of a prefix's key range: the prefix with its last byte one higher. */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
