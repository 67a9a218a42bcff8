// The connection side of the Redis ACME storage: a command connection and a subscriber, each
// reconnecting with backoff, a deadline on every command, and one log line per outage with its
// code and one on return. What is stored and what the messages mean is redis-storage.ts's.
import { createClient } from '@redis/client';
import type { Logger } from 'pino';
import { Codes } from '../errors.js';
import { createBackoff } from '../util/backoff.js';

type Client = ReturnType<typeof createClient>;

export interface RedisLinkOptions {
  readonly url: string;
  /** The URL without its password, for logs. */
  readonly description: string;
  readonly channel: string;
  readonly logger: Logger;
  /** Each command's deadline (a paused server answers nothing). */
  readonly commandTimeoutMs: number;
  readonly onMessage: (text: string) => void;
  /** After every connection but a normal start's first: what was announced meanwhile is lost, read again. */
  readonly onReturn: () => void;
}

export class RedisLink {
  private readonly client: Client;
  private readonly subscriber: Client;
  private up: boolean | null = null;
  private everReady = false;
  private gaveUp = false;
  private closed = false;

  constructor(private readonly options: RedisLinkOptions) {
    const backoff = createBackoff(250, 30_000);
    this.client = createClient({
      url: options.url,
      // A command while Redis is away fails now instead of waiting in a queue: the manager keeps what it has.
      disableOfflineQueue: true,
      socket: { connectTimeout: options.commandTimeoutMs, reconnectStrategy: () => backoff.next() },
    });
    const subscriberBackoff = createBackoff(250, 30_000);
    // Its SUBSCRIBE waits for the connection, and node-redis subscribes again after each reconnect.
    this.subscriber = this.client.duplicate({ disableOfflineQueue: false, socket: { connectTimeout: options.commandTimeoutMs, reconnectStrategy: () => subscriberBackoff.next() } });
    this.client.on('error', (error: Error) => this.down(error));
    this.client.on('ready', () => {
      backoff.reset();
      this.ready();
    });
    this.subscriber.on('error', (error: Error) => options.logger.debug({ err: error }, 'the Redis subscriber connection failed; reconnecting'));
    this.subscriber.on('ready', () => {
      subscriberBackoff.reset();
      // Messages sent while it was away are lost (the main connection's return covers both being away).
      if (this.everReady && this.up === true) this.options.onReturn();
    });
  }

  /** Connects both, waiting up to waitMs for the first connection; false: berth starts without it. */
  async connect(waitMs: number): Promise<boolean> {
    const ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), waitMs);
      this.client.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    this.client.connect().catch((error: unknown) => this.down(error as Error));
    this.subscriber.connect().catch(() => {});
    this.subscriber.subscribe(this.options.channel, (text) => this.options.onMessage(text)).catch((error: unknown) => this.options.logger.debug({ err: error }, 'subscribing failed'));
    const answered = await ready;
    if (!answered) {
      this.gaveUp = true;
      this.options.logger.error({ code: Codes.acmeRedis, storage: this.options.description }, `the ACME storage ${this.options.description} does not answer; starting without it and retrying with backoff`);
    }
    return answered;
  }

  /** One command with a deadline of berth's own: node-redis's `timeout` option let a paused server's command wait forever. */
  async command<T = unknown>(args: string[]): Promise<T> {
    const timeoutMs = this.options.commandTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer ${args[0]} within ${timeoutMs} ms`)), timeoutMs);
    });
    const sent = this.client.sendCommand(args);
    // A reply after the deadline is nobody's: it must not become an unhandled rejection.
    sent.catch(() => {});
    try {
      return (await Promise.race([sent, deadline])) as T;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A command that also says whether Redis is there: it notices a server that keeps the connection
   * but stops answering (paused, overloaded), which raises no error of its own, and its return.
   */
  async probe<T = unknown>(args: string[]): Promise<T> {
    let reply: T;
    try {
      reply = await this.command<T>(args);
    } catch (error) {
      this.down(error as Error);
      throw error;
    }
    if (this.up === false) {
      this.up = true;
      this.options.logger.info({ storage: this.options.description }, 'the ACME storage in Redis answers again; reading it');
      this.options.onReturn();
    }
    return reply;
  }

  /** How many connections got it (this replica's own subscriber among them). */
  async publish(text: string): Promise<number> {
    return Number(await this.command(['PUBLISH', this.options.channel, text]));
  }

  close(): void {
    this.closed = true;
    for (const client of [this.subscriber, this.client]) {
      try {
        client.destroy();
      } catch {
        // Never connected: nothing to end.
      }
    }
  }

  private down(error: Error): void {
    if (this.closed || this.up === false) return;
    this.up = false;
    const { description } = this.options;
    this.options.logger.error(
      { code: Codes.acmeRedis, storage: description, err: error },
      `the ACME storage ${description} is unreachable (${error.message}); serving the certificates already loaded, reconnecting with backoff`,
    );
  }

  private ready(): void {
    const wasDown = this.up === false;
    this.up = true;
    if (wasDown) this.options.logger.info({ storage: this.options.description }, 'the ACME storage in Redis answers again; reading it');
    // The first connection of a normal start needs no second read; any later one does.
    if (this.everReady || wasDown || this.gaveUp) this.options.onReturn();
    this.everReady = true;
  }
}
