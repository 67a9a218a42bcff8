// Finds the peers' programs, installing the Debian packages that are missing (as root).
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Program -> the Debian package that brings it. */
const PROGRAMS: Record<string, string> = { nginx: 'nginx-light', haproxy: 'haproxy', caddy: 'caddy', wrk: 'wrk' };
const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export async function ensurePeerPrograms(): Promise<void> {
  await ensurePrograms(PROGRAMS);
  await import('redbird').catch(() => {
    throw new Error('the redbird package is missing: run npm ci (it is a devDependency)');
  });
}

/** h2load, the HTTP/2 load generator, comes with Debian's nghttp2-client. */
export const H2LOAD: Record<string, string> = { h2load: 'nghttp2-client' };

/** Installs the Debian packages of the programs (program -> package) that are not on the PATH. */
export async function ensurePrograms(programs: Record<string, string>): Promise<void> {
  const missing: string[] = [];
  for (const [program, pkg] of Object.entries(programs)) if (!(await onPath(program))) missing.push(pkg);
  if (missing.length > 0) {
    if (process.getuid?.() !== 0) throw new Error(`missing ${missing.join(', ')}: run as root, or apt-get install -y ${missing.join(' ')}`);
    console.error(`installing ${missing.join(', ')} with apt-get...`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update'], { env, maxBuffer: 64 * 1024 * 1024 });
    await run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env, maxBuffer: 64 * 1024 * 1024 });
  }
  // Debian's sbin folders are not on every user's PATH.
  process.env['PATH'] = [...new Set([...(process.env['PATH'] ?? '').split(':'), ...SEARCH_PATH])].filter(Boolean).join(':');
}

async function onPath(program: string): Promise<boolean> {
  const folders = [...(process.env['PATH'] ?? '').split(':'), ...SEARCH_PATH].filter(Boolean);
  for (const folder of folders) {
    if (await access(`${folder}/${program}`).then(() => true, () => false)) return true;
  }
  return false;
}
