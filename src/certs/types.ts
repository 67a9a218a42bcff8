// Plain data shared by the certificate sources, the SNI index, the HTTPS listener and the admin API.
import type { Problem } from '../routes/types.js';

export type CertificateOrigin = 'file' | 'acme' | 'default';

/** One certificate berth can serve, with what SNI and the admin API need to know of it. */
export interface CertificateEntry {
  /** DNS names from the certificate's SANs, lowercase; `*.example.com` for a wildcard. */
  readonly names: readonly string[];
  readonly source: CertificateOrigin;
  /** The leaf first, then its chain. */
  readonly certPem: string;
  readonly keyPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The issuer's distinguished name, as Node prints it. */
  readonly issuer: string;
  /** Where it came from: a file path, or the ACME storage path. */
  readonly origin: string;
}

/** Something that supplies certificates and tells when they change (the folder, ACME). */
export interface CertificateSource {
  readonly entries: readonly CertificateEntry[];
  readonly problems: readonly Problem[];
  onChange(listener: () => void): void;
}

/** Answers ACME challenges; the ACME side writes it, the listeners read it before anything else. */
export interface ChallengeAnswers {
  /** The key authorization for an http-01 token, or undefined. */
  http01(token: string): string | undefined;
  /** The tls-alpn-01 certificate for a name being validated, or undefined. */
  tlsAlpn01(servername: string): { readonly certPem: string; readonly keyPem: string } | undefined;
}

/** What the admin API shows per host that has or wants a certificate. */
export interface CertificateStatus {
  readonly host: string;
  readonly source: CertificateOrigin | 'none';
  readonly issuer: string | null;
  readonly notAfter: string | null;
  /** When renewal is due (ACME only). */
  readonly renewAt: string | null;
  readonly lastError: { readonly code: string; readonly message: string } | null;
  /** When a failed order will be tried again. */
  readonly nextTryAt: string | null;
}
