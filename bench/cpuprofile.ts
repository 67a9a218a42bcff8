// Reads a V8 .cpuprofile (node --cpu-prof) and sums self time per function and per area.

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  /** Microseconds since the previous sample, one per sample. */
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly ms: number;
  readonly share: number;
}

export interface ProfileSummary {
  /** Sampled time, idle excluded. */
  readonly busyMs: number;
  readonly idleMs: number;
  readonly functions: readonly SelfTime[];
  readonly areas: readonly SelfTime[];
}

export function summarizeProfile(profile: CpuProfile, root: string): ProfileSummary {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const frame = byNode.get(id)!.callFrame;
    const us = profile.timeDeltas[i] ?? 0;
    if (frame.functionName === '(idle)') {
      idle += us;
      return;
    }
    const where = frame.url === '' ? '' : ` ${shortUrl(frame.url, root)}:${frame.lineNumber + 1}`;
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    const area = areaOf(frame.url, frame.functionName, root);
    areas.set(area, (areas.get(area) ?? 0) + us);
  });
  const busy = [...functions.values()].reduce((sum, us) => sum + us, 0);
  const ranked = (map: Map<string, number>) =>
    [...map.entries()].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: us / 1000, share: us / busy }));
  return { busyMs: busy / 1000, idleMs: idle / 1000, functions: ranked(functions), areas: ranked(areas) };
}

function shortUrl(url: string, root: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) return path.slice(modules + '/node_modules/'.length);
  return path.startsWith(root) ? path.slice(root.length + 1) : path;
}

/** Who the time belongs to: berth's code, a dependency, Node itself, or V8 (GC, compiled code). */
function areaOf(url: string, functionName: string, root: string): string {
  if (url === '') return functionName.startsWith('(') ? `V8 ${functionName}` : 'native (V8 builtins, C++)';
  if (url.startsWith('node:')) return 'Node core (node:*)';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const rest = path.slice(modules + '/node_modules/'.length).split('/');
    return `dependency ${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  return path.startsWith(`${root}/dist/src/`) ? 'berth (dist/src)' : shortUrl(url, root);
}
