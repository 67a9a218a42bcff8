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
  routeNoHost: 'BERTH_E_ROUTE_NO_HOST',
  portAmbiguous: 'BERTH_E_PORT_AMBIGUOUS',
  networkAmbiguous: 'BERTH_E_NETWORK_AMBIGUOUS',
  networkMissing: 'BERTH_E_NETWORK_MISSING',
  nameInvalid: 'BERTH_E_NAME',
  routeConflict: 'BERTH_W_ROUTE_CONFLICT',
  dockerUnreachable: 'BERTH_E_DOCKER_UNREACHABLE',
  dockerApiTooOld: 'BERTH_E_DOCKER_API_TOO_OLD',
  dockerList: 'BERTH_E_DOCKER_LIST',
  dockerEventLine: 'BERTH_E_DOCKER_EVENT_LINE',
  dockerStreamSilent: 'BERTH_W_DOCKER_STREAM_SILENT',
  upstreamRefused: 'BERTH_E_UPSTREAM_REFUSED',
  upstreamReset: 'BERTH_E_UPSTREAM_RESET',
  upstreamTimeout: 'BERTH_E_UPSTREAM_TIMEOUT',
  upstreamOther: 'BERTH_E_UPSTREAM',
} as const;

export type Code = (typeof Codes)[keyof typeof Codes];
