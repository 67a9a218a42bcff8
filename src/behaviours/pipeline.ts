// The behaviours of one route on one request, in one fixed order: closed -> allow -> rate limit ->
// auth -> max-body -> request headers. Each step is a function of (route behaviours, request facts)
// that answers or lets the request go on. Pure decisions, no I/O: the caller writes the answer,
// applies the header edits, and counts a chunked body against `maxBodyBytes`.
//
// `decide` is synchronous unless a bcrypt hash must be computed (a route with bcrypt users and
// credentials not seen before): it returns a Decision, or a Promise of one only then, so routes
// without auth, and clients already checked, take no extra turn of the event loop.
import { parseAddressList, type AddressMatcher } from '../config/cidr.js';
import { Codes } from '../errors.js';
import { errorPage } from '../proxy/pages.js';
import { BasicAuth } from './auth.js';
import { clientKey, RateLimiter, type RateLimiterOptions } from './rate-limit.js';
import type { BehaviourSpec, HeaderEdit } from './spec.js';

export interface RequestFacts {
  /** The address the route's allow list and rate limit see (the socket peer, or the client a trusted proxy names). */
  readonly clientAddress: string;
  readonly method: string;
  /** Lowercase names, as Node gives them. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The request's Content-Length; null or absent when it has none (chunked, or no body). */
  readonly contentLength?: number | null;
}

export interface Answer {
  readonly kind: 'answer';
  readonly status: 401 | 403 | 413 | 429 | 503;
  /** Lowercase names; Content-Length is the writer's to set. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly code: string;
}

export interface Continue {
  readonly kind: 'continue';
  /** Applied in order to the headers berth sends upstream: lowercase name, value or null (remove). */
  readonly requestHeaders: readonly HeaderEdit[];
  /** The body limit a chunked body is counted against; null for none. */
  readonly maxBodyBytes: number | null;
}

export type Decision = Answer | Continue;

/** A route's behaviours made ready for requests: matchers built, buckets and remembered logins held. Made once per process and route. */
export interface RouteBehaviours {
  readonly spec: BehaviourSpec;
  readonly allow: AddressMatcher | null;
  readonly limiter: RateLimiter | null;
  readonly auth: BasicAuth | null;
  /** spec.requestHeaders with lowercase names, after the Authorization removal when auth does not forward it. */
  readonly requestEdits: readonly HeaderEdit[];
}

export function compileBehaviours(spec: BehaviourSpec, options: RateLimiterOptions = {}): RouteBehaviours {
  const allow = spec.allow ? parseAddressList(spec.allow.join(',')) : null;
  const edits: HeaderEdit[] = spec.basicAuth && !spec.basicAuth.forward ? [['authorization', null]] : [];
  for (const [name, value] of spec.requestHeaders ?? []) edits.push([name.toLowerCase(), value]);
  return {
    spec,
    // A spec is only made from ranges that parse; should one not, nobody is let in.
    allow: allow === null ? null : allow.ok ? allow.value : { ranges: [], matches: () => false },
    limiter: spec.rateLimit ? new RateLimiter(spec.rateLimit, options) : null,
    auth: spec.basicAuth ? new BasicAuth(spec.basicAuth) : null,
    requestEdits: edits,
  };
}

type Step = (route: RouteBehaviours, facts: RequestFacts) => Answer | null | Promise<Answer | null>;

function closed(route: RouteBehaviours): Answer | null {
  return route.spec.failClosed ? answer(503, Codes.routeClosed, 'This route is closed: its access settings cannot be read.') : null;
}

function allow(route: RouteBehaviours, facts: RequestFacts): Answer | null {
  return route.allow === null || route.allow.matches(facts.clientAddress) ? null : answer(403, Codes.requestDenied, 'Your address may not reach this route.');
}

function rateLimit(route: RouteBehaviours, facts: RequestFacts): Answer | null {
  if (route.limiter === null) return null;
  const taken = route.limiter.take(clientKey(facts.clientAddress));
  return taken.ok ? null : answer(429, Codes.requestRate, 'Too many requests from your address.', { 'retry-after': String(taken.retryAfterSeconds) });
}

function auth(route: RouteBehaviours, facts: RequestFacts): Answer | null | Promise<Answer | null> {
  if (route.auth === null) return null;
  const auth = route.auth;
  const refuse = (ok: boolean) => (ok ? null : answer(401, Codes.requestAuth, 'This route needs a user name and password.', { 'www-authenticate': auth.challenge() }));
  const ok = auth.check(facts.headers['authorization']);
  return typeof ok === 'boolean' ? refuse(ok) : ok.then(refuse);
}

function maxBody(route: RouteBehaviours, facts: RequestFacts): Answer | null {
  const limit = route.spec.maxBodyBytes;
  return limit === undefined || facts.contentLength == null || facts.contentLength <= limit ? null : bodyTooLarge(limit);
}

/** The order, in one place. */
const STEPS: readonly Step[] = [closed, allow, rateLimit, auth, maxBody];

export function decide(route: RouteBehaviours, facts: RequestFacts): Decision | Promise<Decision> {
  return run(route, facts, 0);
}

function run(route: RouteBehaviours, facts: RequestFacts, from: number): Decision | Promise<Decision> {
  for (let i = from; i < STEPS.length; i++) {
    const result = STEPS[i]!(route, facts);
    if (result instanceof Promise) return result.then((answered) => answered ?? run(route, facts, i + 1));
    if (result !== null) return result;
  }
  return { kind: 'continue', requestHeaders: route.requestEdits, maxBodyBytes: route.spec.maxBodyBytes ?? null };
}

/** The 413 for a body that passes `limit` (a chunked one, counted while it streams). */
export function bodyTooLarge(limit: number): Answer {
  return answer(413, Codes.requestTooLarge, `The request body is over this route's limit of ${limit} bytes.`);
}

/** Headers to set on (value) or remove from (null) the upstream's response, names as written. */
export function responseHeaderEdits(spec: BehaviourSpec): readonly HeaderEdit[] {
  return spec.responseHeaders ?? [];
}

function answer(status: Answer['status'], code: string, detail: string, headers: Record<string, string> = {}): Answer {
  return { kind: 'answer', status, code, body: errorPage(status, detail, code), headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers } };
}
