// What the proxy tells the rest of berth about its traffic (metrics, access log), as plain data.

export interface RequestRecord {
  readonly method: string;
  /** The normalised Host header. */
  readonly host: string;
  readonly path: string;
  /** The matched route's host pattern (`*` for any host), or null when nothing matched. */
  readonly routeHost: string | null;
  /** What was sent; 499 when the client left before anything was. */
  readonly status: number;
  /** berth's code for a request it refused itself, else null. */
  readonly code: string | null;
  readonly durationMs: number;
  /** Bytes written to the client for this response, headers included. */
  readonly bytes: number;
  /** `address:port` of the endpoint that served it, when one did. */
  readonly upstream: string | null;
  readonly container: string | null;
  readonly requestId: string | null;
  /** The client went away before the response was complete. */
  readonly aborted: boolean;
}

export interface ProxyObserver {
  request(record: RequestRecord): void;
  /** An upstream failed (a stable code), whether or not a retry then saved the request. */
  upstreamError(code: string): void;
  retry(): void;
  connections(delta: 1 | -1): void;
  websockets(delta: 1 | -1): void;
}

/** One observer that tells all of them. */
export function combineObservers(observers: ReadonlyArray<Partial<ProxyObserver>>): ProxyObserver {
  const each = <K extends keyof ProxyObserver>(name: K) => {
    const calls = observers.map((o) => o[name]?.bind(o)).filter((f): f is NonNullable<typeof f> => f !== undefined);
    return ((...args: unknown[]) => {
      for (const call of calls) (call as (...a: unknown[]) => void)(...args);
    }) as ProxyObserver[K];
  };
  return { request: each('request'), upstreamError: each('upstreamError'), retry: each('retry'), connections: each('connections'), websockets: each('websockets') };
}
