// A single-node swarm on the test engine: joined when the engine is in none, and left afterwards
// only if it was joined here; overlay networks and services named uniquely and removed.
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { docker, DockerError, TEST_LABEL, uniqueName } from './docker.js';

const run = promisify(execFile);
const services = new Set<string>();
const stacks = new Set<string>();
const networks = new Set<string>();
let joinedHere = false;
/** Whether docker_gwbridge, which swarm init creates and leave keeps, was there before. */
let hadGatewayBridge = true;

/**
 * Puts the engine into a single-node swarm unless it is in one; throws on a worker (services are
 * invisible there). Resolves true when the swarm was made here, advertising `advertise`.
 */
export async function ensureSwarm(advertise = '127.0.0.1'): Promise<boolean> {
  const [state, manager] = (await docker('info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}')).split(' ');
  if (state === 'inactive') {
    hadGatewayBridge = await docker('network', 'inspect', 'docker_gwbridge').then(() => true, () => false);
    // Swarm mode refuses an engine run with --live-restore; this machine's runs without it.
    await docker('swarm', 'init', '--advertise-addr', advertise);
    joinedHere = true;
    return true;
  } else if (state !== 'active' || manager !== 'true') {
    throw new Error(`the test engine is a swarm ${state} node that is no manager; these tests need a manager`);
  }
  return false;
}

/** An attachable overlay network, so plain containers can join it too. */
export async function createOverlay(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  networks.add(name);
  await docker('network', 'create', '--driver', 'overlay', '--attachable', '--label', TEST_LABEL, name);
  return name;
}

/** `docker service create --detach` with the given arguments; removed by leaveSwarm(). */
export async function createService(name: string, args: readonly string[]): Promise<void> {
  services.add(name);
  await docker('service', 'create', '--detach', '--name', name, '--label', TEST_LABEL, ...args);
}

/** `docker stack deploy -c <file> <name>` with the given variables for the file's `${...}`; removed by leaveSwarm(). */
export async function deployStack(file: string, name: string, variables: Record<string, string>): Promise<void> {
  stacks.add(name);
  await run('docker', ['stack', 'deploy', '--compose-file', file, name], { env: { ...process.env, ...variables } });
}

/** The running task containers of a service on this node, by id. */
export async function taskContainers(service: string): Promise<string[]> {
  const out = await docker('ps', '--filter', `label=com.docker.swarm.service.name=${service}`, '--format', '{{.ID}}');
  return out === '' ? [] : out.split('\n');
}

/** Removes the services and networks made here, then leaves the swarm if it was joined here. */
export async function leaveSwarm(): Promise<void> {
  const deployed = [...stacks];
  stacks.clear();
  await Promise.all(deployed.map((name) => docker('stack', 'rm', name).catch(ignoreMissing)));
  const names = [...services];
  services.clear();
  await Promise.all(names.map((name) => docker('service', 'rm', name).catch(ignoreMissing)));
  // A network is removable once the tasks' containers on it are gone, which takes a moment.
  for (const network of [...networks, ...deployed.map((name) => `${name}_edge`)]) {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await docker('network', 'rm', network);
        break;
      } catch (error) {
        if (error instanceof DockerError && /no such|not found/i.test(error.stderr)) break;
        await sleep(200);
      }
    }
    networks.delete(network);
  }
  if (joinedHere) {
    joinedHere = false;
    await docker('swarm', 'leave', '--force');
    if (!hadGatewayBridge) await docker('network', 'rm', 'docker_gwbridge').catch(ignoreMissing);
  }
}

function ignoreMissing(error: unknown): void {
  if (!(error instanceof DockerError && /no such|not found/i.test(error.stderr))) throw error;
}
