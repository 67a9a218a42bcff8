// Lists of problems as a person reads them. Pure.
import type { Problem } from './types.js';

/** Each problem once (same code, label and message), in the order first met. */
export function uniqueProblems(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.code} ${problem.label ?? ''} ${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
