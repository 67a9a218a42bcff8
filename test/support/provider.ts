// A Docker provider over a fake client, for unit tests of the watch loop.
import pino from 'pino';
import type { DockerClient } from '../../src/docker/client.js';
import { fixedLocator } from '../../src/docker/own.js';
import { DockerProvider } from '../../src/docker/provider.js';
import { RouteStore } from '../../src/routes/store.js';
import { systemClock } from '../../src/util/clock.js';

export function providerOver(client: DockerClient, options: Partial<ConstructorParameters<typeof DockerProvider>[0]> = {}): DockerProvider {
  return new DockerProvider({
    client,
    address: 'unix:///run/docker.sock',
    routing: { labelPrefix: 'berth', domain: null, exposedByDefault: true, network: null },
    store: new RouteStore(['docker']),
    logger: pino({ level: 'silent' }),
    resyncIntervalMs: 60_000,
    reconnect: { initialMs: 100, maxMs: 1000 },
    locator: fixedLocator(),
    clock: systemClock,
    ...options,
  });
}
