// `berth check <compose.yml> [--label-prefix P] [--compat traefik,nginx-proxy]`: a dry run without Docker. Prints what berth
// would route for each service and every problem; exits 1 when there are problems, 2 on misuse.
import { readFileSync } from 'node:fs';
import { COMPAT_READERS, type CompatReader } from '../docker/compat/index.js';
import { readCompose } from './compose.js';
import { checkServices } from './report.js';

export function runCheck(argv: readonly string[]): number {
  let file: string | undefined;
  let prefix = 'berth';
  let compat: CompatReader[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--label-prefix' && i + 1 < argv.length) prefix = argv[++i]!;
    else if (arg.startsWith('--label-prefix=')) prefix = arg.slice('--label-prefix='.length);
    else if (arg === '--compat' || arg.startsWith('--compat=')) {
      const names = (arg === '--compat' ? (argv[++i] ?? '') : arg.slice('--compat='.length)).split(',').map((name) => name.trim()).filter(Boolean);
      const unknown = names.filter((name) => !(name in COMPAT_READERS));
      if (unknown.length > 0) return usage(`--compat knows ${Object.keys(COMPAT_READERS).join(', ')}, not ${unknown.join(', ')}`);
      compat = names as CompatReader[];
    }
    else if (!arg.startsWith('-') && file === undefined) file = arg;
    else return usage(`unknown argument "${arg}"`);
  }
  if (file === undefined) return usage('name a compose file');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    process.stderr.write(`berth check: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
    return 2;
  }
  const compose = readCompose(text);
  if (!compose.ok) {
    process.stderr.write(`berth check: ${file}: ${compose.message}\n`);
    return 2;
  }
  const report = checkServices(compose.services, prefix, compat);
  process.stdout.write(report.text);
  return report.problems > 0 ? 1 : 0;
}

function usage(problem: string): number {
  process.stderr.write(`berth check: ${problem}\nusage: berth check <compose.yml> [--label-prefix berth] [--compat traefik,nginx-proxy]\n`);
  return 2;
}
