// Typed Fleet REST client: the only way the gateway reads hosts, device mappings and policies.
// Endpoints: https://fleetdm.com/docs/rest-api/rest-api#hosts — every answer is schema-checked.
import { setTimeout as delay } from 'node:timers/promises';
import { GatewayError } from '../../errors.ts';
import { createFleetTransport } from './fleet-transport.ts';
import {
  parseDeviceMapping,
  parseGlobalPolicies,
  parseHostDetail,
  parseHostList,
  parseRefetch,
  parseTeamPolicies,
} from './fleet-schemas.ts';
import type { FleetDeviceMappingEntry, FleetHost, FleetListedHost, FleetPolicySummary } from './fleet-schemas.ts';

export interface FleetClientOptions {
  /** Fleet server URL, e.g. https://fleet.example.com (a path prefix is kept). */
  baseUrl: string;
  /** Token of an API-only Fleet user (its token does not expire). */
  apiToken: string;
  timeoutMs?: number;
  maxConcurrency?: number;
  retries?: number;
  retryBaseDelayMs?: number;
  maxRetryAfterMs?: number;
  /** Pages of GET /hosts read per email lookup before giving up (a LIKE search can match a lot). */
  maxEmailLookupPages?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface FleetClient {
  getHost(id: number): Promise<FleetHost>;
  getHostByIdentifier(identifier: string): Promise<FleetHost>;
  /** Hosts whose Fleet device mapping holds `email` (case-insensitive); list bodies carry no policies. */
  findHostsByEmail(email: string, options?: { perPage?: number }): Promise<FleetListedHost[]>;
  getDeviceMapping(hostId: number): Promise<FleetDeviceMappingEntry[]>;
  /** Asks the agent to re-run its policies at its next check-in; answers before that happens. */
  refetchHost(hostId: number): Promise<void>;
  listGlobalPolicies(): Promise<FleetPolicySummary[]>;
  /** The team's own policies followed by the global policies it inherits. */
  listTeamPolicies(teamId: number): Promise<FleetPolicySummary[]>;
  close(): Promise<void>;
}

const DEVICE_MAPPING_FAN_OUT = 4;

function hostIdPath(id: number): string {
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new GatewayError('TG_ERR_FLEET_NOT_FOUND', 'Device not found in Fleet', { details: { reason: 'invalid host id' } });
  }
  return `/hosts/${id}`;
}

function teamIdPath(id: number): string {
  // Interpolated into the path: anything but a plain non-negative integer would change the route.
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new GatewayError('TG_ERR_FLEET_NOT_FOUND', 'Team not found in Fleet', { details: { reason: 'invalid team id' } });
  }
  return `/teams/${id}`;
}

async function mapWithLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function createFleetClient(options: FleetClientOptions): FleetClient {
  const transport = createFleetTransport({
    baseUrl: options.baseUrl,
    apiToken: options.apiToken,
    timeoutMs: options.timeoutMs ?? 5_000,
    maxConcurrency: options.maxConcurrency ?? 16,
    retries: options.retries ?? 2,
    retryBaseDelayMs: options.retryBaseDelayMs ?? 100,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 3_000,
    sleep: options.sleep ?? ((ms) => delay(ms)),
    random: options.random ?? Math.random,
  });
  const maxPages = options.maxEmailLookupPages ?? 10;

  async function getDeviceMapping(hostId: number): Promise<FleetDeviceMappingEntry[]> {
    return parseDeviceMapping(await transport.get(`${hostIdPath(hostId)}/device_mapping`)).deviceMapping;
  }

  async function listHostsMatching(email: string, perPage: number): Promise<FleetListedHost[]> {
    const hosts: FleetListedHost[] = [];
    for (let page = 0; page < maxPages; page += 1) {
      const query = new URLSearchParams({ query: email, per_page: String(perPage), page: String(page), device_mapping: 'true' });
      const batch = parseHostList(await transport.get(`/hosts?${query.toString()}`));
      hosts.push(...batch);
      // Fleet's list has no total count: a short page is the last one.
      if (batch.length < perPage) return hosts;
    }
    throw new GatewayError('TG_ERR_FLEET_BAD_RESPONSE', 'Fleet returned an unexpected response', {
      details: { reason: `email lookup matched more than ${maxPages * perPage} hosts` },
    });
  }

  // `query` is a LIKE search over hostname, serial, IP, uuid and emails, so "bob@example.com"
  // also matches "bob@example.com.au" or a hostname containing it: keep real mappings only.
  async function findHostsByEmail(email: string, { perPage = 50 } = {}): Promise<FleetListedHost[]> {
    const wanted = email.trim().toLowerCase();
    if (wanted === '') return [];
    const hosts = await listHostsMatching(wanted, perPage);
    const withMapping = await mapWithLimit(hosts, DEVICE_MAPPING_FAN_OUT, async (host) =>
      host.deviceMapping === null ? { ...host, deviceMapping: await getDeviceMapping(host.id) } : host,
    );
    return withMapping.filter((host) => host.deviceMapping?.some((entry) => entry.email.trim().toLowerCase() === wanted));
  }

  return {
    getHost: async (id) => parseHostDetail(await transport.get(`${hostIdPath(id)}?exclude_software=true`)),
    getHostByIdentifier: async (identifier) => {
      // An empty identifier would hit GET /hosts/identifier/, a different (or no) route.
      if (identifier === '') throw new GatewayError('TG_ERR_FLEET_NOT_FOUND', 'Device not found in Fleet', { details: { reason: 'empty identifier' } });
      return parseHostDetail(await transport.get(`/hosts/identifier/${encodeURIComponent(identifier)}?exclude_software=true`));
    },
    findHostsByEmail,
    getDeviceMapping,
    refetchHost: async (hostId) => parseRefetch(await transport.post(`${hostIdPath(hostId)}/refetch`)),
    listGlobalPolicies: async () => parseGlobalPolicies(await transport.get('/global/policies')),
    listTeamPolicies: async (teamId) => parseTeamPolicies(await transport.get(`${teamIdPath(teamId)}/policies`)),
    close: () => transport.close(),
  };
}
