// Mutable state of the Fleet simulator: per-host policy results (current and pending until the
// next agent check-in), fault-injection knobs and request statistics that tests assert on.
import { resolveTimeMs } from './fleet-simulator-data.ts';
import type { SimulatorData, SimulatorHost, SimulatorPolicyResponse } from './fleet-simulator-data.ts';

export type SimulatorEndpoint =
  | 'getHost'
  | 'getHostByIdentifier'
  | 'listHosts'
  | 'getDeviceMapping'
  | 'refetchHost'
  | 'listGlobalPolicies'
  | 'listTeamPolicies'
  | 'unknown';

export interface SimulatorKnobs {
  /** Delay before each Fleet API answer. */
  latencyMs: number;
  /** Share (0..1) of Fleet API requests answered 500 with a Fleet-shaped body. */
  errorRate: number;
  /** Fleet is down: 'reset' destroys the connection, 'unavailable' answers 503. */
  outage: boolean;
  outageMode: 'reset' | 'unavailable';
  /** The next N Fleet API requests fail with `failStatus` (deterministic errorRate for tests). */
  failNext: number;
  failStatus: number;
  /** Sent as `retry-after` (seconds) on injected failures when not null. */
  retryAfterSec: number | null;
  /** false: GET /hosts ignores device_mapping=true, like servers that predate that option. */
  listDeviceMapping: boolean;
}

export interface SimulatorStats {
  requestCount: Record<SimulatorEndpoint, number>;
  totalRequests: number;
  inFlight: number;
  maxInFlight: number;
}

export interface SimulatedHost {
  data: SimulatorHost;
  status: SimulatorHost['status'];
  results: Map<number, SimulatorPolicyResponse>;
  /** Results the user's fix produced on the device, reported at the next check-in. */
  pending: Map<number, SimulatorPolicyResponse>;
  refetchRequested: boolean;
  seenTimeMs: number;
  policyUpdatedAtMs: number;
  startedMs: number;
}

export const DEFAULT_KNOBS: Readonly<SimulatorKnobs> = {
  latencyMs: 0,
  errorRate: 0,
  outage: false,
  outageMode: 'reset',
  failNext: 0,
  failStatus: 500,
  retryAfterSec: null,
  listDeviceMapping: true,
};

function emptyStats(): SimulatorStats {
  return {
    requestCount: { getHost: 0, getHostByIdentifier: 0, listHosts: 0, getDeviceMapping: 0, refetchHost: 0, listGlobalPolicies: 0, listTeamPolicies: 0, unknown: 0 },
    totalRequests: 0,
    inFlight: 0,
    maxInFlight: 0,
  };
}

export interface SimulatorStateOptions {
  data: SimulatorData;
  refetchDelayMs: number;
  now: () => number;
}

export type SimulatorState = ReturnType<typeof createSimulatorState>;

export function createSimulatorState({ data, refetchDelayMs, now }: SimulatorStateOptions) {
  const hosts = new Map<number, SimulatedHost>();
  const timers = new Set<NodeJS.Timeout>();
  const knobs: SimulatorKnobs = { ...DEFAULT_KNOBS };
  let stats = emptyStats();
  // Relative times in the data (seen_time, policy created_at) count back from here.
  let startedMs = 0;

  function load(): void {
    hosts.clear();
    startedMs = now();
    for (const host of data.hosts) {
      const seenTimeMs = resolveTimeMs(host.seen_time, startedMs);
      hosts.set(host.id, {
        data: host,
        status: host.status,
        results: new Map(Object.entries(host.policy_results).map(([id, response]) => [Number(id), response])),
        pending: new Map(),
        refetchRequested: false,
        seenTimeMs,
        policyUpdatedAtMs: host.policy_updated_at ? resolveTimeMs(host.policy_updated_at, startedMs) : seenTimeMs,
        startedMs,
      });
    }
  }

  /** What fleetd does when it polls for distributed queries after a refetch request. */
  function checkIn(host: SimulatedHost): void {
    for (const [policyId, response] of host.pending) host.results.set(policyId, response);
    host.pending.clear();
    host.refetchRequested = false;
    host.status = 'online';
    host.seenTimeMs = now();
    host.policyUpdatedAtMs = now();
  }

  function requestRefetch(host: SimulatedHost): void {
    if (host.refetchRequested) return;
    host.refetchRequested = true;
    // An offline or missing agent never polls, so its refetch stays requested, as in Fleet.
    if (host.status !== 'online') return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      checkIn(host);
    }, refetchDelayMs);
    timers.add(timer);
  }

  function setPolicyResult(hostId: number, policyId: number, response: SimulatorPolicyResponse, immediate = false): boolean {
    const host = hosts.get(hostId);
    if (!host || !data.policies.some((policy) => policy.id === policyId)) return false;
    if (immediate) {
      host.results.set(policyId, response);
      host.pending.delete(policyId);
      host.policyUpdatedAtMs = now();
    } else {
      host.pending.set(policyId, response);
    }
    return true;
  }

  function clearTimers(): void {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  }

  function reset(): void {
    clearTimers();
    Object.assign(knobs, DEFAULT_KNOBS);
    stats = emptyStats();
    load();
  }

  function setKnobs(patch: Partial<SimulatorKnobs>): SimulatorKnobs {
    return Object.assign(knobs, patch);
  }

  load();
  return {
    data,
    hosts,
    knobs,
    get stats(): SimulatorStats {
      return stats;
    },
    get startedMs(): number {
      return startedMs;
    },
    now,
    refetchDelayMs,
    setKnobs,
    setPolicyResult,
    requestRefetch,
    reset,
    dispose: clearTimers,
  };
}
