// Starts what HTTPS needs from the settings: the default certificate, the folder, ACME, and the
// service that puts them behind one SNI index and follows the routes.
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ChallengeRegistry } from '../acme/challenges.js';
import { AcmeManager, acmeDirectoryUrl } from '../acme/manager.js';
import type { Config } from '../config/settings.js';
import type { RouteStore } from '../routes/store.js';
import { RedisStorage, isRedisStorage } from '../acme/redis-storage.js';
import { loadDefaultCertificate, loadSharedDefaultCertificate } from './default.js';
import { CertificateFolder } from './folder.js';
import { Certificates } from './service.js';

// acme-client waits 5 s before its first look at a pending challenge; a CA usually decides in one.
const ACME_POLL = { attempts: 12, minMs: 1000, maxMs: 30_000 };

export interface RunningCertificates {
  readonly certificates: Certificates;
  readonly challenges: ChallengeRegistry;
  readonly acme: AcmeManager | null;
  stop(): Promise<void>;
}

export async function startCertificates(config: Config, store: RouteStore, logger: Logger): Promise<RunningCertificates> {
  const log = logger.child({ component: 'certificates' });
  const challenges = new ChallengeRegistry();
  // Redis: one account, one set of certificates and one default certificate for every replica.
  const shared = isRedisStorage(config.acmeStorage) ? new RedisStorage({ url: config.acmeStorage, challenges, logger: log }) : null;
  await shared?.init();
  const storage = shared ? null : resolve(config.acmeStorage);
  const fallback = shared ? await loadSharedDefaultCertificate(shared) : await loadDefaultCertificate({ dir: join(storage!, 'default') });
  for (const problem of fallback.problems) log.warn({ code: problem.code }, problem.message);
  const folder = config.certsDir === null ? null : new CertificateFolder({ dir: resolve(config.certsDir), logger: log });
  const kept = shared ? { store: shared } : { storageDir: join(storage!, 'acme') };
  // Orders need an account contact: without one, HTTPS routes use the folder and the default certificate.
  const acme =
    config.acmeEmail === null
      ? null
      : new AcmeManager({ directoryUrl: acmeDirectoryUrl(config.acmeCa), email: config.acmeEmail, ...kept, challenges, challengeOrder: config.acmeChallenges, poll: ACME_POLL, logger: log.child({ component: 'acme' }) });
  await folder?.start();
  await acme?.start();
  const certificates = new Certificates({ defaultEntry: fallback.entry, folder, acme, challenges, logger: log });
  certificates.followRoutes(store);
  return {
    certificates,
    challenges,
    acme,
    async stop() {
      await folder?.stop();
      await acme?.stop();
      await shared?.close();
    },
  };
}
