// Percentiles of a sample: nearest rank, so a reported figure is always one that was measured.

export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5);
}

/** p50, p90, p99 and the extremes in one line. */
export function summarize(samples: readonly number[]): string {
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  return `${samples.length} runs: p50 ${ms(quantile(samples, 0.5))}, p90 ${ms(quantile(samples, 0.9))}, p99 ${ms(quantile(samples, 0.99))}, min ${ms(Math.min(...samples))}, max ${ms(Math.max(...samples))}`;
}
