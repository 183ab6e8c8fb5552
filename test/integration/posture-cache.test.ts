// Integration test: the posture cache over the real Fleet client and the real Fleet simulator —
// TTL, the never-cache-failing rule, coalescing, stale serving in outages, bounds and metrics.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { loadSimulatorData, parseSimulatorData } from '../../src/dev/fleet-simulator-data.ts';
import { startFleetSimulator } from '../../src/dev/fleet-simulator.ts';
import type { FleetSimulator } from '../../src/dev/fleet-simulator.ts';
import { GatewayError } from '../../src/errors.ts';
import { createFleetClient } from '../../src/pipeline/gather-posture/fleet-client.ts';
import type { FleetClient } from '../../src/pipeline/gather-posture/fleet-client.ts';
import type { FleetHost } from '../../src/pipeline/gather-posture/fleet-schemas.ts';
import { createPostureCache } from '../../src/pipeline/gather-posture/posture-cache.ts';
import type { PostureCache, PostureCacheDeps } from '../../src/pipeline/gather-posture/posture-cache.ts';
import { createPostureMetrics, type PostureMetrics } from '../../src/pipeline/gather-posture/posture-cache-metrics.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TOKEN = 'test-fleet-token';
const TTL_MS = 60_000;
const STALE_LIMIT_MS = 300_000;
const BOB_UUID = '3F6B8E14-72C9-4D0A-B5E8-91A4C7D2E063';

let simulator: FleetSimulator;
let fleet: FleetClient;
let clock: { ms: number };
let registry: Registry;
let metrics: PostureMetrics;

/** The route rule the tests use: every policy reported "pass" (so bob and carol fail). */
const passes = (host: FleetHost): boolean => host.policies.every((policy) => policy.response === 'pass');
const anyHost = (): boolean => true;

function postureCache(overrides: Partial<PostureCacheDeps> = {}): PostureCache {
  return createPostureCache({ fleet, ttlMs: TTL_MS, staleLimitMs: STALE_LIMIT_MS, maxEntries: 1_000, now: () => clock.ms, metrics, ...overrides });
}

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

const requests = () => simulator.state.stats.requestCount;

beforeAll(async () => {
  const data = await loadSimulatorData(path.join(repoRoot, 'config', 'fleet-simulator.yaml'));
  simulator = await startFleetSimulator({ data, apiToken: TOKEN });
  // No retries: each cache miss is exactly one request the simulator counts.
  fleet = createFleetClient({ baseUrl: simulator.url, apiToken: TOKEN, retries: 0, maxConcurrency: 64 });
});

afterAll(async () => {
  await fleet.close();
  await simulator.close();
});

beforeEach(() => {
  simulator.state.reset();
  clock = { ms: 1_700_000_000_000 };
  registry = new Registry();
  metrics = createPostureMetrics(registry);
});

describe('TTL and the failing rule', () => {
  test('a passing host is fetched once, served from cache for the TTL, then fetched again', async () => {
    const cache = postureCache();
    expect(await cache.hostById(1, passes)).toMatchObject({ source: 'fleet', fetchedAtMs: clock.ms, value: { id: 1 } });
    expect(await cache.hostById(1, passes)).toMatchObject({ source: 'cache', value: { id: 1 } });
    clock.ms += TTL_MS - 1;
    expect((await cache.hostById(1, passes)).source).toBe('cache');
    expect(requests().getHost).toBe(1);
    clock.ms += 1;
    expect((await cache.hostById(1, passes)).source).toBe('fleet');
    expect(requests().getHost).toBe(2);
    expect(metrics.snapshot()).toEqual({ hits: 2, misses: 2, failingRechecks: 0, coalesced: 0, staleServes: 0 });
  });

  test('a failing host asks Fleet on every look-up and gets in as soon as it is fixed', async () => {
    const cache = postureCache();
    for (let i = 0; i < 3; i += 1) {
      const lookup = await cache.hostById(2, passes);
      expect(lookup.source).toBe('fleet');
      expect(passes(lookup.value)).toBe(false);
    }
    expect(requests().getHost).toBe(3);
    expect(simulator.state.setPolicyResult(2, 1, 'pass', true)).toBe(true);
    const fixed = await cache.hostById(2, passes);
    expect(fixed.source).toBe('fleet');
    expect(passes(fixed.value)).toBe(true);
    expect((await cache.hostById(2, passes)).source).toBe('cache');
    expect(requests().getHost).toBe(4);
    expect(metrics.snapshot()).toMatchObject({ hits: 1, misses: 1, failingRechecks: 3 });
  });

  test('the same cached host may pass one route and be re-checked for another', async () => {
    const cache = postureCache();
    await cache.hostById(3, anyHost);
    expect((await cache.hostById(3, anyHost)).source).toBe('cache');
    // Carol has no result yet for policy 5: a route demanding "pass" everywhere asks again.
    expect((await cache.hostById(3, passes)).source).toBe('fleet');
    expect(requests().getHost).toBe(2);
  });

  test('store() after a re-check is what the next look-up sees, by id and by identifier', async () => {
    const cache = postureCache();
    expect(passes((await cache.hostByIdentifier(BOB_UUID, passes)).value)).toBe(false);
    simulator.state.setPolicyResult(2, 1, 'pass', true);
    cache.store(await fleet.getHost(2));
    const byIdentifier = await cache.hostByIdentifier(BOB_UUID, passes);
    expect(byIdentifier.source).toBe('cache');
    expect(passes(byIdentifier.value)).toBe(true);
    expect((await cache.hostById(2, passes)).source).toBe('cache');
    expect(requests().getHostByIdentifier).toBe(1);
  });
});

describe('coalescing', () => {
  test('1,000 concurrent look-ups of one cold host make one Fleet call', async () => {
    simulator.state.setKnobs({ latencyMs: 50 });
    const cache = postureCache();
    const lookups = await Promise.all(Array.from({ length: 1_000 }, () => cache.hostById(1, passes)));
    expect(requests().getHost).toBe(1);
    expect(new Set(lookups.map((lookup) => lookup.value))).toEqual(new Set([lookups[0]?.value]));
    expect(lookups.every((lookup) => lookup.source === 'fleet')).toBe(true);
    expect(metrics.snapshot()).toMatchObject({ misses: 1_000, coalesced: 999 });
  });

  test('concurrent re-checks of a failing host share one call too', async () => {
    const cache = postureCache();
    await cache.hostByIdentifier(BOB_UUID, passes);
    simulator.state.setKnobs({ latencyMs: 30 });
    await Promise.all(Array.from({ length: 100 }, () => cache.hostByIdentifier(BOB_UUID, passes)));
    expect(requests().getHostByIdentifier).toBe(2);
    expect(metrics.snapshot()).toMatchObject({ failingRechecks: 100, coalesced: 99 });
  });
});

describe('Fleet outages', () => {
  test('a passing entry is served stale until the stale limit, then the error surfaces', async () => {
    const cache = postureCache();
    const fetched = await cache.hostById(1, passes);
    simulator.state.setKnobs({ outage: true });
    clock.ms += TTL_MS;
    expect(await cache.hostById(1, passes)).toMatchObject({ source: 'stale', fetchedAtMs: fetched.fetchedAtMs, value: { id: 1 } });
    clock.ms = fetched.fetchedAtMs + STALE_LIMIT_MS - 1;
    expect((await cache.hostById(1, passes)).source).toBe('stale');
    clock.ms += 1;
    expect((await rejection(cache.hostById(1, passes))).code).toBe('TG_ERR_FLEET_UNAVAILABLE');
    expect(metrics.snapshot().staleServes).toBe(2);
    // Fleet is back: a normal fetch, nothing of the errors was cached.
    simulator.state.setKnobs({ outage: false });
    expect((await cache.hostById(1, passes)).source).toBe('fleet');
  });

  test('a failing entry is never served stale, even within the TTL', async () => {
    const cache = postureCache();
    await cache.hostById(2, passes);
    await cache.hostIdsForEmail('erin@example.com');
    simulator.state.setKnobs({ outage: true, outageMode: 'unavailable' });
    expect((await rejection(cache.hostById(2, passes))).code).toBe('TG_ERR_FLEET_UNAVAILABLE');
    expect((await rejection(cache.hostIdsForEmail('erin@example.com'))).code).toBe('TG_ERR_FLEET_UNAVAILABLE');
    expect(metrics.snapshot().staleServes).toBe(0);
  });

  test('a host Fleet no longer knows is not served stale', async () => {
    const cache = postureCache();
    expect((await rejection(cache.hostById(99, anyHost))).code).toBe('TG_ERR_FLEET_NOT_FOUND');
    expect((await rejection(cache.hostByIdentifier('no-such-host', anyHost))).code).toBe('TG_ERR_FLEET_NOT_FOUND');
    expect(cache.size()).toBe(0);
  });
});

describe('device mapping and policies', () => {
  test('an email maps to its hosts only; "no device" is asked again every time', async () => {
    const cache = postureCache();
    expect(await cache.hostIdsForEmail('Bob@Example.com')).toMatchObject({ value: [2], source: 'fleet' });
    const listed = requests().listHosts;
    expect(await cache.hostIdsForEmail('bob@example.com')).toMatchObject({ value: [2], source: 'cache' });
    expect(requests().listHosts).toBe(listed);
    expect(await cache.hostIdsForEmail('erin@example.com')).toMatchObject({ value: [], source: 'fleet' });
    expect(await cache.hostIdsForEmail('erin@example.com')).toMatchObject({ value: [], source: 'fleet' });
    expect(requests().listHosts).toBe(listed + 2);
  });

  test('device emails are de-duplicated and cached; a refusing caller asks again', async () => {
    const cache = postureCache();
    expect(await cache.deviceEmails(1)).toMatchObject({ value: ['alice@example.com'], source: 'fleet' });
    expect((await cache.deviceEmails(1)).source).toBe('cache');
    expect((await cache.deviceEmails(1, (emails) => emails.includes('bob@example.com'))).source).toBe('fleet');
    expect(requests().getDeviceMapping).toBe(2);
  });

  test('policy creation times come from the global list, cached for the TTL', async () => {
    const cache = postureCache();
    const created = await cache.policyCreatedAt(null);
    expect([...created.value.keys()]).toEqual([1, 2, 3, 4, 5]);
    const ageMs = simulator.state.startedMs - (created.value.get(5)?.getTime() ?? 0);
    expect(ageMs).toBeGreaterThanOrEqual(45 * 60_000);
    expect(ageMs).toBeLessThan(45 * 60_000 + 1_000);
    expect((await cache.policyCreatedAt(null)).source).toBe('cache');
    expect(requests().listGlobalPolicies).toBe(1);
  });

  test('a team sees its own policies and the inherited global ones', async () => {
    const data = parseSimulatorData({
      policies: [
        { id: 1, name: 'Global', query: 'SELECT 1;', created_at: '2024-01-01T00:00:00Z' },
        { id: 7, name: 'Team only', query: 'SELECT 1;', team_id: 3, created_at: '-1h' },
      ],
      hosts: [{ id: 1, uuid: 'u-1', hostname: 'h1', platform: 'darwin', os_version: 'macOS 15', team_id: 3, policy_results: { 1: 'pass', 7: 'fail' } }],
    });
    const teamSimulator = await startFleetSimulator({ data, apiToken: TOKEN });
    const teamFleet = createFleetClient({ baseUrl: teamSimulator.url, apiToken: TOKEN, retries: 0 });
    try {
      const cache = postureCache({ fleet: teamFleet });
      const team = await cache.policyCreatedAt(3);
      expect([...team.value.keys()].sort()).toEqual([1, 7]);
      expect(team.value.get(1)?.toISOString()).toBe('2024-01-01T00:00:00.000Z');
      expect([...(await cache.policyCreatedAt(null)).value.keys()]).toEqual([1]);
      expect((await teamFleet.getHost(1)).policies.map((policy) => policy.id).sort()).toEqual([1, 7]);
      expect(teamSimulator.state.stats.requestCount.listTeamPolicies).toBe(1);
    } finally {
      await teamFleet.close();
      await teamSimulator.close();
    }
  });
});

describe('bounds and metrics', () => {
  test('maxEntries bounds the cache; the least recently used entry goes first', async () => {
    const cache = postureCache({ maxEntries: 3 });
    for (const id of [1, 2, 3, 4, 5]) await cache.hostById(id, anyHost);
    expect(cache.size()).toBe(3);
    expect((await cache.hostById(5, anyHost)).source).toBe('cache');
    expect((await cache.hostById(1, anyHost)).source).toBe('fleet');
  });

  test('the registry exposes what happened', async () => {
    const cache = postureCache();
    await cache.hostById(1, passes);
    await cache.hostById(1, passes);
    await cache.hostById(2, passes);
    await cache.hostById(2, passes);
    await rejection(cache.hostById(99, passes));
    expect(metrics.snapshot()).toEqual({ hits: 1, misses: 3, failingRechecks: 1, coalesced: 0, staleServes: 0 });
    const text = await registry.metrics();
    for (const name of ['hits', 'misses', 'failing_rechecks', 'coalesced', 'stale_serves']) {
      expect(text).toContain(`trustgate_posture_cache_${name}_total`);
    }
    expect(text).toContain('trustgate_posture_cache_hits_total 1');
    expect(text).toContain('trustgate_posture_cache_misses_total 3');
    expect(text).toContain('trustgate_posture_cache_failing_rechecks_total 1');
    expect(text).toContain('trustgate_posture_cache_entries 2');
    expect(text).toContain('trustgate_fleet_requests_total{endpoint="getHost",outcome="ok"} 3');
    expect(text).toContain('trustgate_fleet_requests_total{endpoint="getHost",outcome="TG_ERR_FLEET_NOT_FOUND"} 1');
  });
});
