// formatDuration writes the config's own syntax: exact, in the largest unit that divides, and read back
// by parseDuration to the same milliseconds.
import { describe, expect, test } from 'vitest';
import { formatDuration } from './format-duration.ts';
import { parseDuration } from './parse-duration.ts';

const CASES: ReadonlyArray<readonly [number, string]> = [
  [0, '0ms'],
  [250, '250ms'],
  [1_500, '1500ms'],
  [30_000, '30s'],
  [90_000, '90s'],
  [15 * 60_000, '15m'],
  [90 * 60_000, '90m'],
  [3_600_000, '1h'],
  [4 * 3_600_000, '4h'],
  [36 * 3_600_000, '36h'],
  [86_400_000, '1d'],
  [30 * 86_400_000, '30d'],
];

describe('formatDuration', () => {
  test.each(CASES)('%i ms → %s, and back', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});
