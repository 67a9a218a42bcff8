// Stable codes: tests and operators match on these, never on message text.
export const Codes = {
  configInvalid: 'BERTH_E_CONFIG',
  labelUnknown: 'BERTH_E_LABEL_UNKNOWN',
  labelBoolean: 'BERTH_E_LABEL_BOOLEAN',
  labelHost: 'BERTH_E_LABEL_HOST',
  labelPort: 'BERTH_E_LABEL_PORT',
  labelPath: 'BERTH_E_LABEL_PATH',
  labelScheme: 'BERTH_E_LABEL_SCHEME',
  labelNetwork: 'BERTH_E_LABEL_NETWORK',
  labelEncoded: 'BERTH_E_LABEL_ENCODED',
  labelHsts: 'BERTH_E_LABEL_HSTS',
  routeNoHost: 'BERTH_E_ROUTE_NO_HOST',
  portAmbiguous: 'BERTH_E_PORT_AMBIGUOUS',
  networkAmbiguous: 'BERTH_E_NETWORK_AMBIGUOUS',
  networkMissing: 'BERTH_E_NETWORK_MISSING',
  networkNotShared: 'BERTH_E_NETWORK_NOT_SHARED',
  hostUnreachable: 'BERTH_E_HOST_UNREACHABLE',
  nameInvalid: 'BERTH_E_NAME',
  routeConflict: 'BERTH_W_ROUTE_CONFLICT',
  routesSyntax: 'BERTH_E_ROUTES_SYNTAX',
  routesKey: 'BERTH_E_ROUTES_KEY',
  routesType: 'BERTH_E_ROUTES_TYPE',
  routesHost: 'BERTH_E_ROUTES_HOST',
  routesPath: 'BERTH_E_ROUTES_PATH',
  routesUrl: 'BERTH_E_ROUTES_URL',
  routesTarget: 'BERTH_E_ROUTES_TARGET',
  routesRedirectCode: 'BERTH_E_ROUTES_REDIRECT_CODE',
  routesDuplicate: 'BERTH_E_ROUTES_DUPLICATE',
  routesEncoded: 'BERTH_E_ROUTES_ENCODED',
  routesHsts: 'BERTH_E_ROUTES_HSTS',
  routesTls: 'BERTH_E_ROUTES_TLS',
  routesCa: 'BERTH_E_ROUTES_CA',
  routesFileRead: 'BERTH_E_ROUTES_FILE_READ',
  routesFileMissing: 'BERTH_W_ROUTES_FILE_MISSING',
  dockerUnreachable: 'BERTH_E_DOCKER_UNREACHABLE',
  dockerApiTooOld: 'BERTH_E_DOCKER_API_TOO_OLD',
  dockerDenied: 'BERTH_E_DOCKER_DENIED',
  dockerList: 'BERTH_E_DOCKER_LIST',
  dockerEventLine: 'BERTH_E_DOCKER_EVENT_LINE',
  dockerStreamSilent: 'BERTH_W_DOCKER_STREAM_SILENT',
  upstreamRefused: 'BERTH_E_UPSTREAM_REFUSED',
  upstreamReset: 'BERTH_E_UPSTREAM_RESET',
  upstreamTimeout: 'BERTH_E_UPSTREAM_TIMEOUT',
  upstreamOther: 'BERTH_E_UPSTREAM',
  upstreamConnectTimeout: 'BERTH_E_UPSTREAM_CONNECT_TIMEOUT',
  requestTarget: 'BERTH_E_REQUEST_TARGET',
  requestHost: 'BERTH_E_REQUEST_HOST',
  requestEncoded: 'BERTH_E_REQUEST_ENCODED',
  requestHeaders: 'BERTH_E_REQUEST_HEADERS',
  requestMethod: 'BERTH_E_REQUEST_METHOD',
  requestFraming: 'BERTH_E_REQUEST_FRAMING',
  noRoute: 'BERTH_E_NO_ROUTE',
  noEndpoint: 'BERTH_E_NO_ENDPOINT',
  metricsUnavailable: 'BERTH_E_METRICS',
  listen: 'BERTH_E_LISTEN',
  accept: 'BERTH_E_ACCEPT',
  stop: 'BERTH_E_STOP',
  internal: 'BERTH_E_INTERNAL',
  certFile: 'BERTH_E_CERT_FILE',
  certNoKey: 'BERTH_E_CERT_NO_KEY',
  certKey: 'BERTH_E_CERT_KEY',
  certKeyMismatch: 'BERTH_E_CERT_KEY_MISMATCH',
  certExpired: 'BERTH_W_CERT_EXPIRED',
  certChain: 'BERTH_W_CERT_CHAIN',
  certsDir: 'BERTH_E_CERTS_DIR',
  certDefault: 'BERTH_E_CERT_DEFAULT',
  acmeAccount: 'BERTH_E_ACME_ACCOUNT',
  acmeOrder: 'BERTH_E_ACME_ORDER',
  acmeStorage: 'BERTH_E_ACME_STORAGE',
  acmeName: 'BERTH_E_ACME_NAME',
  acmeHeld: 'BERTH_W_ACME_HELD',
} as const;

export type Code = (typeof Codes)[keyof typeof Codes];

/** How berth's process ends when it cannot start; the README lists them. */
export const ExitCodes = { startFailed: 1, config: 2, listen: 3 } as const;

/** A failure whose message already says what to do: shown as one line, without a stack. */
export class BerthError extends Error {
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
    this.name = 'BerthError';
  }
}
