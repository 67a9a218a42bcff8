// Start-up failures end with one line that names the setting to change, a code and an exit status.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../support/repo.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const ROUTES = join(tmpdir(), 'berth-startup-no-such-routes.yml');

interface Run {
  status: number | null;
  lines: Array<Record<string, unknown>>;
  output: string;
}

function berth(args: readonly string[], options: { uid?: number } = {}): Run {
  const result = spawnSync(process.execPath, [CLI, '--no-docker', '--routes-file', ROUTES, ...args], {
    encoding: 'utf8',
    timeout: 15_000,
    env: { ...process.env, BERTH_ADMIN_TOKEN: '' },
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
  });
  const lines = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  return { status: result.status, lines, output: result.stdout + result.stderr };
}

function fatal(run: Run): Record<string, unknown> {
  const line = run.lines.find((entry) => entry['level'] === 60);
  assert.ok(line, `a fatal line in:\n${run.output}`);
  return line;
}

function assertNoStack(run: Run): void {
  assert.doesNotMatch(run.output, /\n\s+at |"stack"/, 'no stack trace');
}

describe('berth start-up failures', () => {
  let taken: Server;
  let port = 0;

  before(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    port = (taken.address() as AddressInfo).port;
  });
  after(() => taken.close());

  it('names --http-port and exits 3 when the proxy port is in use, without a stack trace', () => {
    const run = berth(['--http-port', String(port), '--admin-addr', '127.0.0.1:0']);
    assert.equal(run.status, 3);
    const line = fatal(run);
    assert.equal(line['code'], 'BERTH_E_LISTEN');
    assert.match(String(line['msg']), new RegExp(`^port ${port} is in use: change --http-port`));
    assertNoStack(run);
  });

  it('names --admin-addr when the admin address is in use', () => {
    const run = berth(['--http-port', '0', '--admin-addr', `127.0.0.1:${port}`]);
    assert.equal(run.status, 3);
    const line = fatal(run);
    assert.equal(line['code'], 'BERTH_E_LISTEN');
    assert.match(String(line['msg']), new RegExp(`^127\\.0\\.0\\.1:${port} is in use: change --admin-addr`));
    assertNoStack(run);
  });

  it('with --workers 2, stops once instead of replacing workers that cannot listen for ever', () => {
    const started = Date.now();
    const run = berth(['--http-port', String(port), '--admin-addr', '127.0.0.1:0', '--workers', '2']);
    assert.equal(run.status, 3);
    assert.match(String(fatal(run)['msg']), /is in use: change --http-port/);
    assert.equal(run.lines.filter((line) => line['msg'] === 'a worker died; starting another').length, 0);
    assert.ok(Date.now() - started < 10_000);
    assertNoStack(run);
  });

  it('says a port below 1024 needs privileges when run without them', (t) => {
    const unprivileged = process.getuid?.() === 0 ? 65534 : undefined;
    if (unprivileged === undefined && Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')) <= 81) {
      return t.skip('this user may bind port 81');
    }
    const run = berth(['--http-port', '81', '--admin-addr', '127.0.0.1:0'], unprivileged === undefined ? {} : { uid: unprivileged });
    assert.equal(run.status, 3, run.output);
    const line = fatal(run);
    assert.equal(line['code'], 'BERTH_E_LISTEN');
    assert.match(String(line['msg']), /^port 81 needs privileges .*change --http-port/);
    assertNoStack(run);
  });

  it('prints the package version for --version and exits 0', () => {
    const result = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8', timeout: 5_000 });
    const { version } = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string };
    assert.equal(result.status, 0);
    assert.equal(result.stdout, `berth ${version}\n`);
  });
});
