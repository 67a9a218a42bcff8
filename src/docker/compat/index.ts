// Other tools' labels read as berth's own: each compat reader translates a container's labels
// into native keys, which readLabels then reads like any berth labels, so both give the same
// route intents and are checked by the same code. Native labels win: a container with any
// berth label but `enable` is read natively only.
import { Codes } from '../../errors.js';
import type { Problem } from '../../routes/types.js';
import { readLabels, type LabelReading } from '../labels.js';
import { translateNginxProxy } from './nginx-proxy.js';
import { translateTraefik, type CompatTranslation } from './traefik.js';

type Translate = (labels: Readonly<Record<string, string>>, env: Readonly<Record<string, string>>) => CompatTranslation;

/** The readers `--compat` can name; each translates one tool's labels (nginx-proxy: environment variables). */
export const COMPAT_READERS = {
  traefik: (labels) => translateTraefik(labels),
  'nginx-proxy': (_labels, env) => translateNginxProxy(env),
} as const satisfies Record<string, Translate>;

/** Readers that need each container's environment, which only an inspect shows. */
export const NEEDS_ENVIRONMENT: ReadonlySet<CompatReader> = new Set(['nginx-proxy']);

export type CompatReader = keyof typeof COMPAT_READERS;

export interface ContainerLabelReading extends LabelReading {
  /** Native label -> the compat label it came from, for naming it in later problems. */
  readonly origin?: ReadonlyMap<string, string>;
}

/** A container's labels as route intents: native ones, else those of the first compat reader that finds its labels. */
export function readContainerLabels(labels: Readonly<Record<string, string>>, prefix: string, compat: readonly CompatReader[], env: Readonly<Record<string, string>> = {}): ContainerLabelReading {
  const native = readLabels(labels, prefix);
  const start = prefix + '.';
  const nativeKeys = Object.keys(labels).filter((label) => label.startsWith(start) && label !== `${start}enable`);
  for (const name of compat) {
    const translation = COMPAT_READERS[name](labels, env);
    if (!translation.present) continue;
    if (nativeKeys.length > 0) {
      const ignored: Problem = {
        code: Codes.compatIgnored,
        label: nativeKeys.sort()[0]!,
        message: `the container has berth labels, so its ${name} labels are not read`,
        fix: `remove the berth labels to route by the ${name} labels, or the ${name} labels to silence this`,
      };
      return { ...native, problems: [...native.problems, ignored] };
    }
    return fromTranslation(translation, labels, prefix);
  }
  return native;
}

function fromTranslation(translation: CompatTranslation, labels: Readonly<Record<string, string>>, prefix: string): ContainerLabelReading {
  const start = prefix + '.';
  const synthetic: Record<string, string> = {};
  const origin = new Map<string, string>();
  for (const [key, value] of translation.keys) synthetic[start + key] = value;
  for (const [key, label] of translation.origin) origin.set(start + key, label);
  // berth.enable still opts a container in or out.
  const enable = labels[`${start}enable`];
  if (enable !== undefined) {
    synthetic[`${start}enable`] = enable;
    origin.set(`${start}enable`, `${start}enable`);
  }
  const reading = readLabels(synthetic, prefix);
  const closed = new Set(translation.closed);
  const routes = reading.routes
    .filter((route) => !(translation.routers && route.name === 'default'))
    // An access check berth cannot honour: the route exists, answering 503, never open.
    .map((route) => (closed.has(route.name) ? { ...route, behaviours: { failClosed: true as const } } : route));
  const problems = [...translation.problems, ...renameProblems(reading.problems, origin)];
  return { enable: reading.enable, routes, problems, origin };
}

/** Problems about translated keys name the labels the user wrote. */
export function renameProblems(problems: readonly Problem[], origin: ReadonlyMap<string, string> | undefined): Problem[] {
  if (!origin || origin.size === 0) return [...problems];
  return problems.map((problem) => {
    const label = problem.label === undefined ? undefined : origin.get(problem.label);
    if (label === undefined) return problem;
    const swap = (text: string) => text.split(problem.label!).join(label);
    return { ...problem, label, message: swap(problem.message), ...(problem.fix !== undefined ? { fix: swap(problem.fix) } : {}) };
  });
}
