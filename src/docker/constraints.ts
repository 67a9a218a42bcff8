// --constraint: which containers berth watches at all. Pure: parsing, Docker's filter form, matching.

/** `label=<key>` (the label is present) or `label=<key>=<value>` (it has that value). */
export interface Constraint {
  readonly label: string;
  readonly value: string | null;
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

/** One constraint as typed, or what is wrong with it. */
export function parseConstraint(raw: string): { constraint: Constraint } | { problem: string } {
  const text = raw.trim();
  if (!text.startsWith('label=')) return { problem: `"${raw}" is not label=<key> or label=<key>=<value>` };
  const rest = text.slice('label='.length);
  const eq = rest.indexOf('=');
  const label = (eq === -1 ? rest : rest.slice(0, eq)).trim();
  if (!KEY.test(label)) return { problem: `"${raw}" names no usable label key` };
  return { constraint: { label, value: eq === -1 ? null : rest.slice(eq + 1) } };
}

/** Constraints separated by ";" (repeated flags are joined so); every bad one is named. */
export function parseConstraintList(raw: string): { ok: true; value: Constraint[] } | { ok: false; problem: string } {
  const constraints: Constraint[] = [];
  const problems: string[] = [];
  for (const part of raw.split(';')) {
    if (part.trim() === '') continue;
    const parsed = parseConstraint(part);
    if ('problem' in parsed) problems.push(parsed.problem);
    else constraints.push(parsed.constraint);
  }
  return problems.length > 0 ? { ok: false, problem: problems.join('; ') } : { ok: true, value: constraints };
}

/** Docker's `label` list filter: every entry must hold, as with --constraint. */
export function labelFilters(constraints: readonly Constraint[]): string[] {
  return constraints.map(({ label, value }) => (value === null ? label : `${label}=${value}`));
}

/** Whether labels (a container's, or a container event's attributes) meet every constraint. */
export function meetsConstraints(labels: Readonly<Record<string, string>>, constraints: readonly Constraint[]): boolean {
  return constraints.every(({ label, value }) => Object.hasOwn(labels, label) && (value === null || labels[label] === value));
}
