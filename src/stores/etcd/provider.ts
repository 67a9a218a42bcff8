// The etcd source: the Go proxies' /hosts/ keys and berth's entries, followed by watches.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../../config/settings.js';
import { Codes } from '../../errors.js';
import type { RouteStore } from '../../routes/store.js';
import { StoreProvider } from '../provider.js';
import { readEtcdKey } from './keys.js';
import { EtcdConnector } from './session.js';

export interface EtcdSourceOptions {
  readonly config: Pick<Config, 'etcd' | 'etcdUser' | 'etcdPassword' | 'etcdCa'>;
  readonly store: RouteStore;
  readonly logger: Logger;
}

export function createEtcdSource({ config, store, logger }: EtcdSourceOptions): StoreProvider {
  const address = config.etcd!;
  // Read once at start: a CA berth cannot read is a setting to fix, not a store that is down.
  const ca = config.etcdCa === null ? undefined : readFileSync(config.etcdCa, 'utf8');
  return new StoreProvider({
    name: 'etcd',
    address: address.shown,
    connector: new EtcdConnector({
      url: address.url,
      logger,
      ...(ca !== undefined ? { ca } : {}),
      ...(config.etcdUser !== null ? { user: config.etcdUser, password: config.etcdPassword ?? '' } : {}),
    }),
    read: readEtcdKey,
    store,
    logger,
    unreachableCode: Codes.etcdUnreachable,
  });
}
