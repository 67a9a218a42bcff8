// The docker CLI against an engine of the test's own (a private daemon, a swarm worker), and
// images copied into it from the shared engine: nothing can be pulled here.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs the docker CLI against the engine at `host`; resolves with trimmed stdout. */
export async function dockerAt(host: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('docker', ['--host', host, ...args], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** docker save | docker load, from the shared engine to the one at `host`; `where` names it in errors. */
export async function copyImageTo(host: string, tag: string, where: string): Promise<void> {
  const save = spawn('docker', ['save', tag], { stdio: ['ignore', 'pipe', 'inherit'] });
  const load = spawn('docker', ['--host', host, 'load'], { stdio: ['pipe', 'ignore', 'inherit'] });
  save.stdout.pipe(load.stdin);
  const [[saved], [loaded]] = await Promise.all([once(save, 'exit'), once(load, 'exit')]);
  if (saved !== 0 || loaded !== 0) throw new Error(`copying ${tag} ${where} failed (save ${saved}, load ${loaded})`);
}
