// A container labelled for Traefik, routed by berth under --compat traefik on a real engine:
// host and path, the load balancer port, a stripprefix and a basicauth middleware, and a router
// behind a middleware berth cannot honour staying closed.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { useBerth } from '../support/berth.js';
import { runHttpd, uniqueName, waitFor } from '../support/docker.js';
import { busyboxImage } from '../support/images.js';

const SHA = '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ='; // {SHA} of "secret"
const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

interface ContainerView {
  name: string;
  routes: Array<{ host: string; path: string }>;
  problems: Array<{ code: string; label?: string }>;
}

describe('--compat traefik on a real container', () => {
  const berth = useBerth(['--compat', 'traefik']);
  let image: string;
  before(async () => (image = await busyboxImage()));

  it('routes Host && PathPrefix to the load balancer port, strips the prefix and asks for basic auth', async () => {
    const host = `${uniqueName('x')}.test`;
    const app = await runHttpd({
      image,
      body: 'root',
      // Only the stripped path exists in the container: /api/v1/ reaches it as /v1/.
      files: { 'v1/index.html': 'api-v1' },
      labels: {
        'traefik.enable': 'true',
        'traefik.http.routers.app.rule': `Host(\`${host}\`) && PathPrefix(\`/api\`)`,
        'traefik.http.routers.app.middlewares': 'app-strip,app-auth',
        'traefik.http.services.app.loadbalancer.server.port': '80',
        'traefik.http.middlewares.app-strip.stripprefix.prefixes': '/api',
        'traefik.http.middlewares.app-auth.basicauth.users': `alice:${SHA}`,
      },
    });
    const authorization = basic('alice', 'secret');
    const body = await waitFor(async () => {
      const response = await berth().request(host, '/api/v1/', { headers: { authorization } });
      return response.status === 200 && response.body;
    }, { what: `${host}/api/v1/ answering 200 through berth`, timeoutMs: 5000, intervalMs: 20 });
    assert.equal(body, 'api-v1', 'the prefix is stripped before the container sees the path');
    assert.equal((await berth().request(host, '/api/', { headers: { authorization } })).body, 'root');

    const anonymous = await berth().request(host, '/api/v1/');
    assert.equal(anonymous.status, 401);
    assert.match(String(anonymous.headers['www-authenticate']), /^Basic realm=/);
    assert.equal((await berth().request(host, '/api/v1/', { headers: { authorization: basic('alice', 'wrong') } })).status, 401);
    assert.equal((await berth().request(host, '/v1/', { headers: { authorization } })).status, 404, 'nothing is routed outside the PathPrefix');

    const { containers } = await berth().admin<{ containers: ContainerView[] }>('/api/containers');
    const view = containers.find((c) => c.name === app.name);
    assert.deepEqual(view?.routes.map((route) => [route.host, route.path]), [[host, '/api']]);
    assert.deepEqual(view?.problems, []);
  });

  it('keeps a router behind forwardauth closed (503) and names the middleware in its problems', async () => {
    const host = `${uniqueName('sso')}.test`;
    const app = await runHttpd({
      image,
      labels: {
        'traefik.http.routers.app.rule': `Host(\`${host}\`)`,
        'traefik.http.routers.app.middlewares': 'sso',
        'traefik.http.middlewares.sso.forwardauth.address': 'http://auth.invalid:4181',
        'traefik.http.services.app.loadbalancer.server.port': '80',
      },
    });
    const answer = await waitFor(async () => {
      const response = await berth().request(host);
      return response.status === 503 && response;
    }, { what: `${host} answering 503`, timeoutMs: 5000, intervalMs: 20 });
    assert.match(answer.body, /BERTH_E_ROUTE_CLOSED/, 'closed, not merely without an endpoint');
    const { containers } = await berth().admin<{ containers: ContainerView[] }>('/api/containers');
    const view = containers.find((c) => c.name === app.name);
    assert.deepEqual(view?.problems.map((p) => [p.code, p.label]), [['BERTH_E_COMPAT_MIDDLEWARE', 'traefik.http.middlewares.sso.forwardauth.address']]);
  });
});
