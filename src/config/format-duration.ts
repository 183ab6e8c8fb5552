// Writes milliseconds back in the config's own duration syntax (the inverse of parseDuration): the
// largest unit that divides the value exactly, so what is shown can be pasted back into the file and
// never rounds (an audit line says exactly how long a grant lasted).

const UNITS: ReadonlyArray<readonly [number, string]> = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1_000, 's']];

/** 2_592_000_000 → "30d", 5_400_000 → "90m", 1_500 → "1500ms". */
export function formatDuration(ms: number): string {
  for (const [size, unit] of UNITS) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
