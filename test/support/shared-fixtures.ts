// The shared wire fixtures (../shared/fixtures, real Fleet, osquery and Elasticsearch bodies) live outside
// this repository. A developer's checkout without them skips the contract tests; under CI=true a missing
// directory is a failing test instead, so the contract can never silently stop being checked.
import { existsSync } from 'node:fs';
import { test } from 'vitest';

/** True when `dir` exists; when it does not and CI is set, registers a test that fails saying so. */
export function sharedFixturesPresent(dir: string): boolean {
  if (existsSync(dir)) return true;
  const ci = process.env.CI;
  if (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') {
    test(`the shared fixtures at ${dir} are present`, () => {
      throw new Error(`CI is set but the shared fixtures directory ${dir} is missing: check out the team's shared fixtures next to this repository (../shared/fixtures) so the wire contract tests run.`);
    });
  }
  return false;
}
