// Runs once before any test file (vitest globalSetup): fails the run at once, with a clear message,
// when the test Redis is not there, instead of letting Redis-backed tests hang.
import { probeTestRedis } from './test-redis.ts';

export default async function setup(): Promise<void> {
  await probeTestRedis();
}
