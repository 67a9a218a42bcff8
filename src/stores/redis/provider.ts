// The Redis source: Hipache's frontends and berth's entries, followed live.
import type { Logger } from 'pino';
import { Codes } from '../../errors.js';
import type { RouteStore } from '../../routes/store.js';
import { StoreProvider } from '../provider.js';
import { readRedisKey } from './keys.js';
import { RedisConnector, type RedisConnectorOptions } from './session.js';

export interface RedisSourceOptions {
  readonly url: string;
  /** The address without its password. */
  readonly shown: string;
  readonly store: RouteStore;
  readonly logger: Logger;
  readonly timing?: Omit<RedisConnectorOptions, 'url' | 'logger'>;
}

export function createRedisSource(options: RedisSourceOptions): StoreProvider {
  return new StoreProvider({
    name: 'redis',
    address: options.shown,
    connector: new RedisConnector({ url: options.url, logger: options.logger, ...options.timing }),
    read: readRedisKey,
    store: options.store,
    logger: options.logger,
    unreachableCode: Codes.redisUnreachable,
  });
}
