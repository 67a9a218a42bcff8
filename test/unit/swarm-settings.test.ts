import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { parseConfig, type ConfigResult } from '../../src/config/parse.js';
import type { Config } from '../../src/config/settings.js';
import { createSources } from '../../src/sources/create.js';

function parsed(argv: string[], env: NodeJS.ProcessEnv = {}): ConfigResult {
  return parseConfig(argv, env);
}

function config(argv: string[], env: NodeJS.ProcessEnv = {}): Config {
  const result = parsed(argv, env);
  assert.equal(result.kind, 'config', result.kind === 'invalid' ? result.problems.join('; ') : undefined);
  return (result as Extract<ConfigResult, { kind: 'config' }>).config;
}

describe('swarm settings', () => {
  it('follows the swarm when the engine is a manager, by default, and polls tasks every 2 s', () => {
    const c = config([]);
    assert.equal(c.swarm, 'auto');
    assert.equal(c.swarmPoll, 2000);
  });

  it('reads --swarm, --swarm=false, --no-swarm, BERTH_SWARM and --swarm-poll', () => {
    assert.equal(config(['--swarm']).swarm, 'on');
    assert.equal(config(['--swarm=false']).swarm, 'off');
    assert.equal(config(['--no-swarm']).swarm, 'off');
    assert.equal(config([], { BERTH_SWARM: 'auto' }).swarm, 'auto');
    assert.equal(config([], { BERTH_SWARM: 'no' }).swarm, 'off');
    assert.equal(config(['--swarm-poll', '500ms']).swarmPoll, 500);
  });

  it('refuses a --swarm that is not auto, true or false', () => {
    const result = parsed(['--swarm=sometimes']);
    assert.equal(result.kind, 'invalid');
    assert.match((result as Extract<ConfigResult, { kind: 'invalid' }>).problems.join('\n'), /--swarm.*"sometimes" is not auto, true or false/);
  });

  it('lists the swarm source after the Docker source, and none with --swarm=false or --no-docker', async () => {
    const logger = pino({ level: 'silent' });
    assert.deepEqual((await createSources(config([]), logger)).list.map((source) => source.name), ['docker', 'swarm']);
    assert.deepEqual((await createSources(config(['--swarm=false']), logger)).list.map((source) => source.name), ['docker']);
    assert.deepEqual((await createSources(config(['--no-docker', '--routes-file', '/tmp/berth-routes.yml']), logger)).list.map((source) => source.name), ['file']);
  });
});
