// One JSON line per request, sampled when traffic is heavy.
import type { Logger } from 'pino';
import type { ProxyObserver, RequestRecord } from './observer.js';

export function createAccessLog(logger: Logger, sampleRate: number, random: () => number = Math.random): Pick<ProxyObserver, 'request'> {
  return {
    request(record: RequestRecord): void {
      if (sampleRate < 1 && random() >= sampleRate) return;
      logger.info(
        {
          host: record.host,
          method: record.method,
          path: record.path,
          status: record.status,
          ...(record.code ? { code: record.code } : {}),
          durationMs: Math.round(record.durationMs * 100) / 100,
          bytes: record.bytes,
          upstream: record.upstream,
          container: record.container,
          requestId: record.requestId,
          ...(record.aborted ? { aborted: true } : {}),
        },
        'request',
      );
    },
  };
}
