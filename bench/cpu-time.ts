// CPU time a process tree has used (user + system, its live children included), from /proc: a
// figure per request that other work on the machine barely moves, unlike requests per second.
import { readFile } from 'node:fs/promises';

const TICKS_PER_SECOND = 100;

/** Milliseconds of CPU used so far by `pid` and its descendants; null off Linux or once gone. */
export async function cpuMsOfTree(pid: number): Promise<number | null> {
  const own = await cpuMsOf(pid);
  if (own === null) return null;
  let total = own;
  for (const child of await childrenOf(pid)) total += (await cpuMsOfTree(child)) ?? 0;
  return total;
}

async function cpuMsOf(pid: number): Promise<number | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return null;
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.split(' ').filter((part) => part.trim() !== '').map(Number);
}
