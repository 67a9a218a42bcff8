// argv + environment -> one frozen Config, or every problem at once.
import { parseBooleanWord } from '../util/boolean.js';
import { isLoopback } from './cidr.js';
import { envName, settings, type Config } from './settings.js';

export type ConfigResult = { kind: 'config'; config: Config } | { kind: 'help' } | { kind: 'version' } | { kind: 'invalid'; problems: string[] };

type AnySetting = (typeof settings)[keyof typeof settings];

export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ConfigResult {
  const byFlag = new Map<string, [string, AnySetting]>(Object.entries(settings).map(([key, s]) => [s.flag, [key, s]]));
  const given = new Map<string, string>();
  const problems: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--version') return { kind: 'version' };
    const match = /^--(no-)?([a-z-]+)(?:=(.*))?$/s.exec(arg);
    const entry = match && byFlag.get(match[2]!);
    if (!match || !entry) {
      problems.push(`unknown argument "${arg}" (see --help)`);
      continue;
    }
    const [key, s] = entry;
    const isBoolean = 'boolean' in s && s.boolean === true;
    const give = (value: string) => given.set(key, 'repeatable' in s && s.repeatable && given.has(key) ? `${given.get(key)};${value}` : value);
    if (match[1]) {
      if (isBoolean && match[3] === undefined) given.set(key, 'false');
      else problems.push(`unknown argument "${arg}" (see --help)`);
    } else if (match[3] !== undefined) {
      give(match[3]);
    } else if (isBoolean && parseBooleanWord(argv[i + 1] ?? '') === undefined) {
      given.set(key, 'true');
    } else if (i + 1 < argv.length) {
      give(argv[++i]!);
    } else {
      problems.push(`--${s.flag} needs a value`);
    }
  }

  const config: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(settings) as Array<[string, AnySetting]>) {
    const fromEnv = env[envName(s.flag)];
    const raw = given.get(key) ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : s.default(env));
    if (raw === null) {
      config[key] = null;
      continue;
    }
    const parsed = s.parse(raw);
    if (parsed.ok) config[key] = parsed.value;
    else problems.push(`--${s.flag} (${envName(s.flag)}): ${parsed.problem}`);
  }
  if (problems.length === 0) problems.push(...crossCheck(config as Config));
  return problems.length > 0 ? { kind: 'invalid', problems } : { kind: 'config', config: Object.freeze(config) as Config };
}

/** Settings that are fine alone but not together. */
function crossCheck(config: Config): string[] {
  const problems: string[] = [];
  if (!config.docker && config.routesFile === null && config.redis === null && config.etcd === null) {
    problems.push('--no-docker needs --routes-file, --redis or --etcd: without one, berth would route nothing');
  }
  if (config.etcdUser !== null && config.etcdPassword === null) problems.push('--etcd-user needs --etcd-password (BERTH_ETCD_PASSWORD)');
  if (config.etcdCa !== null && !config.etcd?.url.startsWith('https:')) problems.push('--etcd-ca needs an https:// --etcd address');
  if (!isLoopback(config.adminAddr.host) && config.adminToken === null) {
    problems.push(`--admin-addr ${config.adminAddr.host} is not loopback: set BERTH_ADMIN_TOKEN, or anyone who reaches it can read every route and container`);
  }
  if (!/^(staging|production|https:\/\/\S+)$/.test(config.acmeCa)) problems.push(`--acme-ca "${config.acmeCa}" is not an https:// directory URL, "staging" or "production"`);
  return problems;
}

export function helpText(): string {
  const lines = ['Usage: berth [options]', '', 'Routes HTTP and WebSocket traffic to Docker containers by their labels.', '', 'Options (each also as an environment variable):'];
  for (const s of Object.values(settings) as AnySetting[]) {
    const fallback = s.default({});
    const def = s.flag === 'docker-host' ? '$DOCKER_HOST, else ' + fallback : fallback === null ? 'unset' : fallback === '' ? 'none' : fallback;
    lines.push(`  --${s.flag.padEnd(20)} ${envName(s.flag).padEnd(26)} ${s.help} (default: ${def})`);
  }
  lines.push('  --version', '  --help', '');
  return lines.join('\n');
}
