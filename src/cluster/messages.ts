// What the primary and its workers say to each other over the cluster IPC channel.
import type { AlpnCertificate } from '../acme/challenges.js';
import type { CertificateOrigin } from '../certs/types.js';
import type { RouteSpec } from '../routes/types.js';
import type { SpecsSplice } from './routes-feed.js';

/** A certificate as it crosses the channel: a CertificateEntry with its dates as ISO strings. */
export interface WireCertificate {
  readonly names: readonly string[];
  readonly source: CertificateOrigin;
  readonly certPem: string;
  readonly keyPem: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly issuer: string;
  readonly origin: string;
}

export type ToWorker =
  /** Every source's routes and the failing health checks; the worker builds the same table the primary has. */
  | { readonly type: 'berth:routes'; readonly sources: Record<string, readonly RouteSpec[]>; readonly health?: Readonly<Record<string, string>> }
  /** What changed since the last routes this worker got (full or changed), and the failing health checks. */
  | { readonly type: 'berth:routes-changed'; readonly changes: Record<string, SpecsSplice>; readonly health: Readonly<Record<string, string>> }
  /** Every certificate in force (folder and ACME) and the default one; the worker builds its own SNI index. */
  | { readonly type: 'berth:certificates'; readonly defaultEntry: WireCertificate; readonly entries: readonly WireCertificate[] }
  /** Every ACME challenge answer in progress; `version` is acknowledged with `berth:challenges-held`. */
  | {
      readonly type: 'berth:challenges';
      readonly version: number;
      readonly http01: Readonly<Record<string, string>>;
      readonly tlsAlpn01: Readonly<Record<string, AlpnCertificate>>;
    }
  | { readonly type: 'berth:shutdown' };

export type ToPrimary =
  /** Sent once the worker listens for messages: anything sent before could be lost. */
  | { readonly type: 'berth:hello' }
  /** Both listeners are up; `httpsPort` is null without HTTPS. */
  | { readonly type: 'berth:listening'; readonly port: number; readonly httpsPort: number | null }
  /** The worker answers from this version of the challenges on: the CA may now be told to validate. */
  | { readonly type: 'berth:challenges-held'; readonly version: number }
  /** The proxy port could not be had; the message says which setting to change. */
  | { readonly type: 'berth:listen-failed'; readonly code: string; readonly message: string };

export function isMessage<T extends { type: string }>(value: unknown, type: T['type']): value is T {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === type;
}
