// `berth check` as a user runs it: a compose file in, routes and problems out, an exit status
// that says whether the stack is fine.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { fixturePath } from '../support/repo.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const check = (...args: string[]) => spawnSync(process.execPath, [CLI, 'check', ...args], { encoding: 'utf8', timeout: 10_000 });

describe('berth check', () => {
  it('prints each service\'s routes with their behaviours and every problem, and exits 1 for problems', () => {
    const run = check(fixturePath('compose/shop.yml'));
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /^app: 1 route\n  shop\.example\.com\/ -> http, port 3000, HTTPS \(plain HTTP redirected\) \[basic auth \(1 user\)\]$/m);
    assert.match(run.stdout, /^  shop\.example\.com\/api -> http, port 8080, prefix stripped$/m, 'deploy.labels in list form are read');
    assert.match(run.stdout, /^  BERTH_E_LABEL_PORT berth\.port: "eighty" is not a port number \(fix: .+\)$/m);
    assert.match(run.stdout, /^db: no route$/m);
    assert.match(run.stdout, /^1 problem$/m);
  });

  it('exits 0 for a stack without problems', () => {
    const run = check(fixturePath('compose/clean.yml'));
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /no problems/);
  });

  it('reads a Traefik stack with --compat traefik as berth would route it', () => {
    const run = check(fixturePath('compose/traefik.yml'), '--compat', 'traefik');
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^  api\.example\.com\/v1 -> http, port 8080, prefix stripped, HTTPS \(plain HTTP redirected\) \[basic auth \(1 user\)\]$/m);
    assert.match(check(fixturePath('compose/traefik.yml')).stdout, /^api: no route$/m, 'without --compat, Traefik labels route nothing');
  });

  it('reads an nginx-proxy stack from its environment with --compat nginx-proxy', () => {
    const run = check(fixturePath('compose/nginx-proxy.yml'), '--compat', 'nginx-proxy');
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^  app\.example\.com\/ -> http, port 3000, HTTPS \(plain HTTP redirected\)$/m);
  });

  it('exits 2 with a usage line when no file is named or it cannot be read', () => {
    assert.equal(check().status, 2);
    const missing = check('/nonexistent/compose.yml');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /ENOENT/);
  });
});
