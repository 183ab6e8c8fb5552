// "I fixed it — check again": asks Fleet to have each device re-run its policies (POST .../refetch),
// then polls until the device has reported (refetch_requested cleared, policy_updated_at moved) or the
// wait runs out, and puts the fresh results in the posture cache. Fleet docs: MISSION-NOTES §3.
import type { FleetClient } from './fleet-client.ts';
import type { FleetHost } from './fleet-schemas.ts';
import type { PostureCache } from './posture-cache.ts';

export interface RefetchOutcome {
  /** Hosts that reported new results in time. */
  readonly updated: readonly number[];
  /** Hosts that did not report back before the wait ran out (offline, asleep, agent not running). */
  readonly silent: readonly number[];
}

export async function refetchAndWait(
  deps: { fleet: FleetClient; cache: PostureCache; now: () => number; sleep?: (ms: number) => Promise<void> },
  hostIds: readonly number[],
  options: { waitMs: number; pollMs?: number },
): Promise<RefetchOutcome> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = deps.now() + options.waitMs;
  const results = await Promise.all(
    hostIds.map(async (id) => {
      const before = await deps.fleet.getHost(id);
      await deps.fleet.refetchHost(id);
      const after = await pollUntilReported(deps.fleet, before, deadline, options.pollMs ?? 1000, deps.now, sleep);
      deps.cache.store(after.host);
      return { id, reported: after.reported };
    }),
  );
  return { updated: results.filter((r) => r.reported).map((r) => r.id), silent: results.filter((r) => !r.reported).map((r) => r.id) };
}

async function pollUntilReported(
  fleet: FleetClient,
  before: FleetHost,
  deadline: number,
  pollMs: number,
  now: () => number,
  sleep: (ms: number) => Promise<void>,
): Promise<{ host: FleetHost; reported: boolean }> {
  let host = before;
  while (now() < deadline) {
    await sleep(Math.min(pollMs, Math.max(0, deadline - now())));
    host = await fleet.getHost(before.id);
    const moved = (host.policyUpdatedAt?.getTime() ?? 0) > (before.policyUpdatedAt?.getTime() ?? 0);
    if (!host.refetchRequested && moved) return { host, reported: true };
  }
  return { host, reported: false };
}
