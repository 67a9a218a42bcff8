// A container configured for nginx-proxy (environment variables, no labels), routed by berth under
// --compat nginx-proxy on a real engine: berth inspects it once for its environment.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { useBerth } from '../support/berth.js';
import { runHttpd, uniqueName, waitFor } from '../support/docker.js';
import { busyboxImage } from '../support/images.js';

describe('--compat nginx-proxy on a real container', () => {
  const berth = useBerth(['--compat', 'nginx-proxy']);
  let image: string;
  before(async () => (image = await busyboxImage()));

  it('routes VIRTUAL_HOST to VIRTUAL_PORT, VIRTUAL_PATH stripped by VIRTUAL_DEST=/', async () => {
    const host = `${uniqueName('np')}.test`;
    await runHttpd({ image, port: 8080, files: { 'v1/index.html': 'from v1' }, env: { VIRTUAL_HOST: host, VIRTUAL_PORT: '8080', VIRTUAL_PATH: '/api', VIRTUAL_DEST: '/' } });
    const answer = await waitFor(
      async () => {
        const got = await berth().request(host, '/api/v1/');
        return got.status === 200 && got;
      },
      { what: `${host}/api routed by its environment` },
    );
    assert.equal(answer.body, 'from v1');
  });
});
