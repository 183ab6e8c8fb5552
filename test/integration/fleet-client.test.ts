// Integration test: the real Fleet client against the real Fleet simulator over loopback HTTP —
// lookups, error mapping, retries, timeouts, outages, bounded concurrency and refetch timing.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { loadSimulatorData } from '../../src/dev/fleet-simulator-data.ts';
import { startFleetSimulator } from '../../src/dev/fleet-simulator.ts';
import type { FleetSimulator } from '../../src/dev/fleet-simulator.ts';
import { GatewayError } from '../../src/errors.ts';
import { createFleetClient } from '../../src/pipeline/gather-posture/fleet-client.ts';
import type { FleetClient, FleetClientOptions } from '../../src/pipeline/gather-posture/fleet-client.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fleetFixturesDir = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'fleet');
const TOKEN = 'test-fleet-token';
const REFETCH_DELAY_MS = 150;
const ALICE_UUID = '8D2C3A9E-5F41-4B7A-9C21-6E3F0B1D4A57';

let simulator: FleetSimulator;
const clients: FleetClient[] = [];
let sleeps: number[] = [];

function client(overrides: Partial<FleetClientOptions> = {}): FleetClient {
  // Recorded, instant sleeps: backoff is asserted on without slowing the suite.
  const created = createFleetClient({ baseUrl: simulator.url, apiToken: TOKEN, sleep: async (ms) => void sleeps.push(ms), ...overrides });
  clients.push(created);
  return created;
}

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

async function control(route: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${simulator.url}/_sim/${route}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  expect(response.status).toBe(200);
  return response.json();
}

async function fleetRaw(route: string, token: string | null = TOKEN): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${simulator.url}/api/v1/fleet${route}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  const data = await loadSimulatorData(path.join(repoRoot, 'config', 'fleet-simulator.yaml'));
  simulator = await startFleetSimulator({ data, apiToken: TOKEN, refetchDelayMs: REFETCH_DELAY_MS });
});

afterAll(async () => {
  await Promise.all(clients.map((created) => created.close()));
  await simulator.close();
});

beforeEach(() => {
  simulator.state.reset();
  sleeps = [];
});

describe('lookups', () => {
  test('host by id carries normalised posture', async () => {
    const alice = await client().getHost(1);
    expect(alice).toMatchObject({ id: 1, uuid: ALICE_UUID, status: 'online', failingPoliciesCount: 0, refetchRequested: false });
    expect(alice.policies.map((policy) => policy.response)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass']);
    const bob = await client().getHost(2);
    expect(bob.policies[0]).toMatchObject({ name: 'Disk encryption enabled', response: 'fail', critical: true });
    expect(bob.policies[0]?.resolution).toMatch(/FileVault[\s\S]*https:\/\/support\.apple\.com/);
  });

  test('host by identifier matches uuid, serial and hostname', async () => {
    const fleet = client();
    for (const identifier of [ALICE_UUID, 'C02FK1ALMD6M', 'alice-macbook-pro.local']) {
      expect((await fleet.getHostByIdentifier(identifier)).id).toBe(1);
    }
    expect(simulator.state.stats.requestCount.getHostByIdentifier).toBe(3);
  });

  test('carol has no result yet for the new policy, dave is offline for days', async () => {
    const carol = await client().getHost(3);
    expect(carol.policies.find((policy) => policy.name === 'Endpoint agent running')?.response).toBe('');
    expect(carol.policies.map((policy) => policy.response)).toEqual(['', 'pass', 'pass', 'pass', 'pass']);
    const dave = await client().getHost(4);
    expect(dave.status).toBe('offline');
    expect(simulator.state.startedMs - (dave.seenTime?.getTime() ?? 0)).toBeGreaterThan(3.9 * 86_400_000);
  });

  test('email lookup keeps only hosts whose device mapping holds the email', async () => {
    const raw = await fleetRaw('/hosts?query=bob%40example.com&per_page=50&page=0&device_mapping=true');
    expect((raw.body.hosts as unknown[]).length).toBe(2);
    const hosts = await client().findHostsByEmail('BOB@Example.com');
    expect(hosts.map((host) => host.id)).toEqual([2]);
    expect(await client().findHostsByEmail('erin@example.com')).toEqual([]);
  });

  test('email lookup falls back to per-host device mapping when the list lacks it', async () => {
    simulator.state.setKnobs({ listDeviceMapping: false });
    const hosts = await client().findHostsByEmail('bob@example.com');
    expect(hosts.map((host) => host.id)).toEqual([2]);
    expect(simulator.state.stats.requestCount.getDeviceMapping).toBe(2);
  });

  test('email lookup pages through full pages', async () => {
    const hosts = await client().findHostsByEmail('bob@example.com', { perPage: 1 });
    expect(hosts.map((host) => host.id)).toEqual([2]);
    expect(simulator.state.stats.requestCount.listHosts).toBe(3);
  });

  test('global policies carry counts computed from host results', async () => {
    const policies = await client().listGlobalPolicies();
    expect(policies.find((policy) => policy.id === 1)).toMatchObject({ critical: true, passingHostCount: 4, failingHostCount: 1 });
  });

  test('policies carry their creation time; team lists add the inherited global policies', async () => {
    const fleet = client();
    const global = await fleet.listGlobalPolicies();
    const startedMs = simulator.state.startedMs;
    // The demo's "Endpoint agent running" was added 45 minutes ago; the rest default to 90 days.
    expect(global.find((policy) => policy.id === 5)?.createdAt?.getTime()).toBe(Math.floor((startedMs - 45 * 60_000) / 1000) * 1000);
    expect(startedMs - (global.find((policy) => policy.id === 1)?.createdAt?.getTime() ?? 0)).toBeGreaterThan(89 * 86_400_000);
    const team = await fleet.listTeamPolicies(2);
    expect(team.map((policy) => policy.id)).toEqual(global.map((policy) => policy.id));
    expect(simulator.state.stats.requestCount.listTeamPolicies).toBe(1);
    expect((await rejection(fleet.listTeamPolicies(77))).code).toBe('TG_ERR_FLEET_NOT_FOUND');
  });
});

describe('Fleet errors', () => {
  test('bad token is TG_ERR_FLEET_UNAUTHORIZED and is not retried', async () => {
    const error = await rejection(client({ apiToken: 'wrong' }).getHost(1));
    expect(error.code).toBe('TG_ERR_FLEET_UNAUTHORIZED');
    expect(error.details).toMatchObject({ fleetStatus: 401, fleetMessage: 'Authentication required' });
    expect(simulator.state.stats.requestCount.getHost).toBe(1);
  });

  test('missing header gets Fleet\'s "Authorization header required" body', async () => {
    const raw = await fleetRaw('/hosts/1', null);
    expect(raw.status).toBe(401);
    expect(raw.body).toMatchObject({ message: 'Authorization header required', errors: [{ name: 'base', reason: 'Authorization header required' }] });
  });

  test('unknown host is TG_ERR_FLEET_NOT_FOUND with Fleet\'s reason in details', async () => {
    const error = await rejection(client().getHost(99));
    expect(error.code).toBe('TG_ERR_FLEET_NOT_FOUND');
    expect(error.details?.fleetErrors).toEqual([{ name: 'base', reason: 'Host 99 was not found in the datastore' }]);
    expect((await rejection(client().getHostByIdentifier('no such/host'))).code).toBe('TG_ERR_FLEET_NOT_FOUND');
  });
});

describe('retries and timeouts', () => {
  test('GET retries on 500 with growing backoff, then succeeds', async () => {
    simulator.state.setKnobs({ failNext: 2 });
    const host = await client({ random: () => 1 }).getHost(1);
    expect(host.id).toBe(1);
    expect(simulator.state.stats.requestCount.getHost).toBe(3);
    expect(sleeps).toEqual([100, 200]);
  });

  test('GET gives up after the configured retries', async () => {
    simulator.state.setKnobs({ errorRate: 1 });
    const error = await rejection(client({ retries: 2 }).getHost(1));
    expect(error.code).toBe('TG_ERR_FLEET_UNAVAILABLE');
    expect(simulator.state.stats.requestCount.getHost).toBe(3);
  });

  test('refetch (POST) is never retried', async () => {
    simulator.state.setKnobs({ failNext: 1 });
    const error = await rejection(client().refetchHost(2));
    expect(error.code).toBe('TG_ERR_FLEET_UNAVAILABLE');
    expect(simulator.state.stats.requestCount.refetchHost).toBe(1);
    expect(sleeps).toEqual([]);
  });

  test('429 waits for retry-after, capped', async () => {
    simulator.state.setKnobs({ failNext: 1, failStatus: 429, retryAfterSec: 2 });
    await client().getHost(1);
    expect(sleeps).toEqual([2_000]);
    simulator.state.setKnobs({ failNext: 1, failStatus: 429, retryAfterSec: 60 });
    await client({ maxRetryAfterMs: 3_000 }).getHost(1);
    expect(sleeps).toEqual([2_000, 3_000]);
    expect(simulator.state.stats.requestCount.getHost).toBe(4);
  });

  test('a slow Fleet is TG_ERR_FLEET_TIMEOUT, without waiting for the answer and without retries', async () => {
    // Fleet would answer only after the test's own timeout: the rejection can only come from timeoutMs.
    simulator.state.setKnobs({ latencyMs: 10 * 60_000 });
    const error = await rejection(client({ timeoutMs: 100 }).getHost(1));
    expect(error.code).toBe('TG_ERR_FLEET_TIMEOUT');
    expect(simulator.state.stats.requestCount.getHost).toBe(1);
  });

  test('outage (connection reset or 503) and refused connections are TG_ERR_FLEET_UNAVAILABLE', async () => {
    simulator.state.setKnobs({ outage: true });
    const reset = await rejection(client().getHost(1));
    expect(reset.code).toBe('TG_ERR_FLEET_UNAVAILABLE');
    expect(simulator.state.stats.requestCount.getHost).toBe(3);
    simulator.state.setKnobs({ outageMode: 'unavailable' });
    expect((await rejection(client({ retries: 0 }).getHost(1))).code).toBe('TG_ERR_FLEET_UNAVAILABLE');
    const refused = await rejection(client({ baseUrl: 'http://127.0.0.1:1', retries: 0 }).getHost(1));
    expect(refused.code).toBe('TG_ERR_FLEET_UNAVAILABLE');
    expect(refused.cause).toBeUndefined();
  });

  test('maxConcurrency bounds what Fleet sees in flight', async () => {
    simulator.state.setKnobs({ latencyMs: 40 });
    const fleet = client({ maxConcurrency: 2 });
    const hosts = await Promise.all([1, 2, 3, 4, 1, 2, 3, 4].map((id) => fleet.getHost(id)));
    expect(hosts).toHaveLength(8);
    expect(simulator.state.stats.maxInFlight).toBe(2);
  });
});

describe('refetch', () => {
  async function waitForCheckIn(fleet: FleetClient, hostId: number) {
    for (let i = 0; i < 40; i += 1) {
      const host = await fleet.getHost(hostId);
      if (!host.refetchRequested) return host;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('host never checked in');
  }

  test('a fixed policy reports pass only after the agent checks in', async () => {
    const fleet = client();
    const before = await fleet.getHost(2);
    await control('hosts/2/policies/1', { response: 'pass' });
    expect((await fleet.getHost(2)).policies.find((policy) => policy.id === 1)?.response).toBe('fail');
    await fleet.refetchHost(2);
    const pending = await fleet.getHost(2);
    expect(pending.refetchRequested).toBe(true);
    expect(pending.policies.find((policy) => policy.id === 1)?.response).toBe('fail');
    const after = await waitForCheckIn(fleet, 2);
    expect(after.policies.find((policy) => policy.id === 1)?.response).toBe('pass');
    expect(after.failingPoliciesCount).toBe(0);
    expect(after.policyUpdatedAt!.getTime()).toBeGreaterThan(before.policyUpdatedAt!.getTime());
  });

  test('immediate results apply without a refetch; offline hosts never check in', async () => {
    const fleet = client();
    await control('hosts/3/policies/5', { response: 'fail', immediate: true });
    expect((await fleet.getHost(3)).policies[0]).toMatchObject({ id: 5, response: 'fail' });
    await fleet.refetchHost(4);
    await new Promise((resolve) => setTimeout(resolve, REFETCH_DELAY_MS * 2));
    expect((await fleet.getHost(4)).refetchRequested).toBe(true);
    expect((await control('stats')) as { requestCount: { refetchHost: number } }).toMatchObject({ requestCount: { refetchHost: 1 } });
  });
});

// The simulator must speak Fleet's documented shape; needs the shared fixtures, so skip without them.
describe.skipIf(!existsSync(fleetFixturesDir))('simulator wire shape vs Fleet examples', () => {
  const fixture = (name: string) => JSON.parse(readFileSync(path.join(fleetFixturesDir, name), 'utf8')) as Record<string, unknown>;

  test('host detail has exactly the field set of Fleet\'s GET /hosts/{id} example', async () => {
    const raw = await fleetRaw('/hosts/1?exclude_software=true');
    const expected = fixture('get-host-by-id.json').host as Record<string, unknown>;
    expect(Object.keys(raw.body.host as object).sort()).toEqual(Object.keys(expected).sort());
  });

  test('error bodies match the derived Fleet error fixtures', async () => {
    const notFound = await fleetRaw('/hosts/999');
    const expected = fixture('error-404-host-not-found.derived.json');
    expect({ ...notFound.body, uuid: expected.uuid }).toEqual(expected);
    const badToken = await fleetRaw('/hosts/1', 'wrong');
    expect(Object.keys(badToken.body).sort()).toEqual(Object.keys(fixture('error-401-authentication-required.derived.json')).sort());
    expect(badToken.body.message).toBe('Authentication required');
  });
});
