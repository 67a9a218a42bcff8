import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bodyTooLarge, compileBehaviours, decide, responseHeaderEdits, type Decision, type RequestFacts } from '../../src/behaviours/pipeline.js';
import type { BehaviourSpec } from '../../src/behaviours/spec.js';

const APR1_ALICE = '$apr1$xy$.lxC8wf/tCocZ14cbZ9g1.'; // "password"
const BCRYPT_BOB = '$2y$04$r57sdkOgmv6giNk6E/8x4OmNc/EXaw3zNhhmx8DkWorTSKPvae0/G'; // "hunter2"
const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
const facts = (extra: Partial<RequestFacts> = {}): RequestFacts => ({ clientAddress: '10.1.2.3', method: 'GET', headers: {}, ...extra });
/** The status and code of an answer, or "continue". */
const outcome = (decision: Decision) => (decision.kind === 'answer' ? `${decision.status} ${decision.code}` : 'continue');

describe('decide', () => {
  const spec: BehaviourSpec = {
    basicAuth: { users: [{ user: 'alice', hash: APR1_ALICE }], realm: 'Staff', forward: false },
    allow: ['10.0.0.0/8', '::1/128'],
    rateLimit: { perSecond: 1, burst: 2 },
    requestHeaders: [['X-Tenant', 'blue'], ['Accept-Encoding', null]],
    maxBodyBytes: 100,
  };
  const ok = basic('alice', 'password');

  // Each row: request facts -> outcome. A fresh route per row, so rate limits do not carry over.
  const rows: ReadonlyArray<[about: string, request: RequestFacts, expected: string]> = [
    ['an allowed address with good credentials goes on', facts({ headers: { authorization: ok } }), 'continue'],
    ['an address outside allow is refused before anything else', facts({ clientAddress: '192.168.0.1', headers: { authorization: ok } }), '403 BERTH_E_REQUEST_DENIED'],
    ['a mapped IPv4 address is matched as IPv4', facts({ clientAddress: '::ffff:10.9.9.9', headers: { authorization: ok } }), 'continue'],
    ['no credentials', facts(), '401 BERTH_E_REQUEST_AUTH'],
    ['a wrong password', facts({ headers: { authorization: basic('alice', 'Password') } }), '401 BERTH_E_REQUEST_AUTH'],
    ['an unknown user', facts({ headers: { authorization: basic('mallory', 'password') } }), '401 BERTH_E_REQUEST_AUTH'],
    ['a body over max-body after auth', facts({ headers: { authorization: ok }, contentLength: 101 }), '413 BERTH_E_REQUEST_TOO_LARGE'],
    ['a body at max-body', facts({ headers: { authorization: ok }, contentLength: 100 }), 'continue'],
    ['a body over max-body without credentials is a 401, not a 413', facts({ contentLength: 1000 }), '401 BERTH_E_REQUEST_AUTH'],
  ];
  for (const [about, request, expected] of rows) {
    it(about, async () => assert.equal(outcome(await decide(compileBehaviours(spec), request)), expected));
  }

  it('answers 401 with the realm, 403 and 413 as pages naming the code', async () => {
    const route = compileBehaviours(spec);
    const denied = (await decide(route, facts())) as Extract<Decision, { kind: 'answer' }>;
    assert.equal(denied.headers['www-authenticate'], 'Basic realm="Staff", charset="UTF-8"');
    assert.equal(denied.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(denied.body, /BERTH_E_REQUEST_AUTH/);
    assert.deepEqual(bodyTooLarge(100).status, 413);
  });

  it('rate limits per client address, before auth, with Retry-After', () => {
    const route = compileBehaviours({ ...spec, basicAuth: undefined }, { now: () => 0 });
    assert.equal(outcome(decide(route, facts()) as Decision), 'continue');
    assert.equal(outcome(decide(route, facts()) as Decision), 'continue');
    const limited = decide(route, facts()) as Extract<Decision, { kind: 'answer' }>;
    assert.equal(outcome(limited), '429 BERTH_E_REQUEST_RATE');
    assert.equal(limited.headers['retry-after'], '1');
    assert.equal(outcome(decide(route, facts({ clientAddress: '10.1.2.4' })) as Decision), 'continue', 'another address has its own bucket');
  });

  it('counts refused logins against the rate limit (it comes first)', async () => {
    const route = compileBehaviours(spec, { now: () => 0 });
    assert.equal(outcome(await decide(route, facts())), '401 BERTH_E_REQUEST_AUTH');
    assert.equal(outcome(await decide(route, facts())), '401 BERTH_E_REQUEST_AUTH');
    assert.equal(outcome(await decide(route, facts({ headers: { authorization: ok } }))), '429 BERTH_E_REQUEST_RATE');
  });

  it('edits request headers in order: Authorization removed unless forwarded, then the spec lowercased', async () => {
    const decision = await decide(compileBehaviours(spec), facts({ headers: { authorization: ok } }));
    assert.deepEqual(decision, { kind: 'continue', requestHeaders: [['authorization', null], ['x-tenant', 'blue'], ['accept-encoding', null]], maxBodyBytes: 100 });
    const forwarded = await decide(compileBehaviours({ basicAuth: { ...spec.basicAuth!, forward: true } }), facts({ headers: { authorization: ok } }));
    assert.deepEqual(forwarded, { kind: 'continue', requestHeaders: [], maxBodyBytes: null });
  });

  it('is synchronous without bcrypt, and for a bcrypt login it has seen', async () => {
    assert.ok(!(decide(compileBehaviours({ compress: true }), facts()) instanceof Promise));
    assert.ok(!(decide(compileBehaviours(spec), facts({ headers: { authorization: ok } })) instanceof Promise), 'apr1');
    const route = compileBehaviours({ basicAuth: { users: [{ user: 'bob', hash: BCRYPT_BOB }], realm: 'berth', forward: true } });
    const bob = facts({ headers: { authorization: basic('bob', 'hunter2') } });
    const first = decide(route, bob);
    assert.ok(first instanceof Promise);
    assert.equal(outcome(await first), 'continue');
    const again = decide(route, bob);
    assert.ok(!(again instanceof Promise), 'remembered');
    assert.equal(outcome(again), 'continue');
    const wrong = decide(route, facts({ headers: { authorization: basic('bob', 'hunter3') } }));
    assert.ok(wrong instanceof Promise, 'failures are not remembered');
    assert.equal(outcome(await wrong), '401 BERTH_E_REQUEST_AUTH');
  });

  it('answers 503 for a route that fails closed, whoever asks', () => {
    const decision = decide(compileBehaviours({ failClosed: true }), facts({ headers: { authorization: ok } })) as Decision;
    assert.equal(outcome(decision), '503 BERTH_E_ROUTE_CLOSED');
  });

  it('lets everything through with an empty spec', () => {
    assert.deepEqual(decide(compileBehaviours({}), facts({ contentLength: 1e9 })), { kind: 'continue', requestHeaders: [], maxBodyBytes: null });
  });
});

describe('responseHeaderEdits', () => {
  it('gives the response edits as written, or none', () => {
    assert.deepEqual(responseHeaderEdits({ responseHeaders: [['X-Frame-Options', 'DENY'], ['Server', null]] }), [['X-Frame-Options', 'DENY'], ['Server', null]]);
    assert.deepEqual(responseHeaderEdits({}), []);
  });
});
