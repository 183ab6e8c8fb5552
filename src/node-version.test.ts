// Guards the runtime choice: the project's scripts must run on Node 24 even where the system Node is older.
import { expect, test } from 'vitest';

test('tests run on Node 24 or newer', () => {
  const major = Number(process.versions.node.split('.')[0]);
  expect(major).toBeGreaterThanOrEqual(24);
});
