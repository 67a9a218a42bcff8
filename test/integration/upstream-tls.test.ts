// The TLS options a routes-file endpoint yields, used by a real TLS client against a server with its own CA.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRoutesFile } from '../../src/file/parse.js';
import { upstreamTlsOptions } from '../../src/proxy/upstream-tls.js';
import type { Endpoint } from '../../src/routes/types.js';
import { fixturePath } from '../support/repo.js';

const readBeside = (path: string) => readFileSync(resolve(dirname(fixturePath('routes/tls.yml')), path), 'utf8');

function endpointOf(route: string, port: number): Endpoint {
  const reading = parseRoutesFile(`routes:\n  - host: internal.test\n    to: https://127.0.0.1:${port}\n${route}`, 'routes.yml', readBeside);
  assert.deepEqual(reading.problems, []);
  return reading.specs[0]!.endpoint!;
}

/** Resolves with the body, or rejects with the TLS client's error code. */
function get(endpoint: Endpoint): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const req = https.get({ host: endpoint.address, port: endpoint.port, path: '/', agent: false, ...upstreamTlsOptions(endpoint) }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolvePromise(body));
    });
    req.on('error', (error: NodeJS.ErrnoException) => reject(new Error(error.code ?? error.message)));
  });
}

describe('https upstreams with an internal CA', () => {
  let server: https.Server;
  let port = 0;

  before(async () => {
    server = https.createServer({ cert: readFileSync(fixturePath('tls/internal.pem')), key: readFileSync(fixturePath('tls/internal.key')) }, (_req, res) => res.end('internal'));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  it('refuses the server\'s certificate when the route names no CA', async () => {
    await assert.rejects(get(endpointOf('', port)), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
  });

  it('accepts it with ca: pointing at the internal CA', async () => {
    assert.equal(await get(endpointOf('    ca: ../tls/internal-ca.pem\n', port)), 'internal');
  });

  it('accepts it with tls-verify: false', async () => {
    assert.equal(await get(endpointOf('    tls-verify: false\n', port)), 'internal');
  });
});
