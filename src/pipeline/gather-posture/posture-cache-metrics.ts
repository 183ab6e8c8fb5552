// Counters for the posture cache (hits, misses, failing re-checks, coalesced look-ups, stale serves,
// entries) and the Fleet calls it makes, registered on the registry the caller owns.
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { ErrorCode } from '../../errors.ts';

export interface PostureMetricsSnapshot {
  hits: number;
  misses: number;
  failingRechecks: number;
  coalesced: number;
  staleServes: number;
}

export type PostureEvent = keyof PostureMetricsSnapshot;

/** The Fleet client methods the posture cache calls (the `endpoint` label). */
export type FleetEndpoint =
  | 'getHost'
  | 'getHostByIdentifier'
  | 'findHostsByEmail'
  | 'getDeviceMapping'
  | 'listGlobalPolicies'
  | 'listTeamPolicies';

export interface PostureMetrics {
  count(event: PostureEvent): void;
  /** One finished Fleet call (after the client's own retries): 'ok' or the error's code. */
  fleetCall(endpoint: FleetEndpoint, outcome: 'ok' | ErrorCode): void;
  /** The cache hands over its size; the entries gauge reads it when scraped. */
  trackEntries(size: () => number): void;
  /** Plain numbers for tests and the benchmark (Prometheus text is for scrapers). */
  snapshot(): PostureMetricsSnapshot;
}

const COUNTERS: Record<PostureEvent, { name: string; help: string }> = {
  hits: { name: 'trustgate_posture_cache_hits_total', help: 'Look-ups answered from the posture cache (fresh and accepted)' },
  misses: { name: 'trustgate_posture_cache_misses_total', help: 'Look-ups with no fresh cache entry, sent to Fleet (joiners of a shared call included)' },
  failingRechecks: {
    name: 'trustgate_posture_cache_failing_rechecks_total',
    help: 'Look-ups whose fresh cached result was failing, so Fleet was asked again',
  },
  coalesced: { name: 'trustgate_posture_cache_coalesced_total', help: 'Look-ups that joined a Fleet call already in flight for the same key' },
  staleServes: { name: 'trustgate_posture_cache_stale_serves_total', help: 'Passing results served past their TTL because Fleet failed' },
};

/** Registers the posture metrics on `registry`; call once per registry (names must be unique there). */
export function createPostureMetrics(registry: Registry): PostureMetrics {
  const counts: PostureMetricsSnapshot = { hits: 0, misses: 0, failingRechecks: 0, coalesced: 0, staleServes: 0 };
  const counters = Object.fromEntries(
    Object.entries(COUNTERS).map(([event, config]) => [event, new Counter({ ...config, registers: [registry] })]),
  ) as Record<PostureEvent, Counter>;
  const fleetCalls = new Counter({
    name: 'trustgate_fleet_requests_total',
    help: 'Fleet calls made by the posture cache, by client method and outcome (ok or the error code)',
    labelNames: ['endpoint', 'outcome'] as const,
    registers: [registry],
  });
  let size: () => number = () => 0;
  new Gauge({
    name: 'trustgate_posture_cache_entries',
    help: 'Entries held by the posture cache',
    registers: [registry],
    collect() {
      this.set(size());
    },
  });
  return {
    count(event) {
      counts[event] += 1;
      counters[event].inc();
    },
    // Error codes come from one fixed catalogue, so the label's cardinality stays bounded.
    fleetCall: (endpoint, outcome) => fleetCalls.inc({ endpoint, outcome }),
    trackEntries(read) {
      size = read;
    },
    snapshot: () => ({ ...counts }),
  };
}
