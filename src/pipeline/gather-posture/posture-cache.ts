// Posture cache in front of Fleet: a passing result is served for the TTL, a failing one never is,
// concurrent look-ups of one key share one Fleet call, and a passing result rides out a Fleet outage.
import { LRUCache } from 'lru-cache';
import { isGatewayError, toGatewayError } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';
import { createPolicyInterner } from './intern-policies.ts';
import type { FleetClient } from './fleet-client.ts';
import type { FleetHost } from './fleet-schemas.ts';
import type { FleetEndpoint, PostureMetrics } from './posture-cache-metrics.ts';

export interface Lookup<T> {
  value: T;
  /** 'cache': fresh and accepted; 'fleet': just fetched; 'stale': past the TTL, served because Fleet failed. */
  source: 'cache' | 'fleet' | 'stale';
  fetchedAtMs: number;
}

export interface PostureCache {
  /** `accept` says whether a cached host may be served (the caller passes "this host passes the route's rules"). */
  hostById(id: number, accept: (host: FleetHost) => boolean): Promise<Lookup<FleetHost>>;
  hostByIdentifier(identifier: string, accept: (host: FleetHost) => boolean): Promise<Lookup<FleetHost>>;
  /** The Fleet host ids mapped to this email (empty list = no device). An empty list is never served from cache. */
  hostIdsForEmail(email: string): Promise<Lookup<number[]>>;
  /**
   * Emails mapped to a host, trimmed, lower-cased, each once (for "the certificate's device must
   * belong to the user"). Cached for the TTL; by default an empty list is never served from cache,
   * and a caller may pass "the user's email is in it" so a refused mapping is asked again too.
   */
  deviceEmails(hostId: number, accept?: (emails: string[]) => boolean): Promise<Lookup<string[]>>;
  /** Creation time of each policy id visible to the host's team (global + team + inherited), cached for the TTL. */
  policyCreatedAt(teamId: number | null): Promise<Lookup<ReadonlyMap<number, Date>>>;
  /** Replace a host after a re-check (refetch) so the next request sees the new results. */
  store(host: FleetHost): void;
  size(): number;
}

export interface PostureCacheDeps {
  fleet: FleetClient;
  ttlMs: number;
  staleLimitMs: number;
  maxEntries: number;
  now: () => number;
  metrics: PostureMetrics;
}

interface Entry<T> {
  value: T;
  fetchedAtMs: number;
}

/** One cacheable Fleet call: where it lives, how to ask Fleet, and what may be served. */
interface CacheableCall<T> {
  key: string;
  endpoint: FleetEndpoint;
  load: () => Promise<T>;
  accept: (value: T) => boolean;
  /** The cached answer, if any (hosts found by identifier go through an alias). */
  read: () => Entry<T> | undefined;
  /** Stores a fresh answer fetched at `fetchedAtMs`. */
  save: (value: T, fetchedAtMs: number) => void;
}

// "Fleet is unreachable or misbehaving" may fall back to a stale passing result. A 404 is Fleet's
// answer (the host is gone), and anything else is our own bug: neither is papered over.
const STALE_ALLOWED: ReadonlySet<ErrorCode> = new Set([
  'TG_ERR_FLEET_UNAVAILABLE',
  'TG_ERR_FLEET_TIMEOUT',
  'TG_ERR_FLEET_UNAUTHORIZED',
  'TG_ERR_FLEET_RATE_LIMITED',
  'TG_ERR_FLEET_BAD_RESPONSE',
]);

const hostKey = (id: number): string => `host:${id}`;
const nonEmpty = (list: readonly unknown[]): boolean => list.length > 0;

interface CoalescingCache {
  lookup<T>(call: CacheableCall<T>): Promise<Lookup<T>>;
  read<T>(key: string): Entry<T> | undefined;
  put(key: string, value: unknown, fetchedAtMs: number): void;
  remove(key: string): void;
  size(): number;
}

/**
 * The cache rule over any call. lru-cache holds the entries (bound, recency, hard expiry at
 * the stale limit) but its fetch()/fetchMethod does not fit, so coalescing is a Map of in-flight
 * promises here:
 * - its stale-on-rejection knows one TTL and no `accept`, so it would serve a failing host during an
 *   outage, or one past the stale limit; the rule has two ages (serve below ttl; below staleLimit
 *   only when Fleet fails) and both need the caller's `accept`;
 * - a key whose cached host is failing must be refetched (forceRefresh) while joiners still share
 *   that call, and each joiner must be counted; a found host is also stored under a second key.
 */
function createCoalescingCache(deps: PostureCacheDeps): CoalescingCache {
  const { ttlMs, staleLimitMs, now, metrics } = deps;
  const cache = new LRUCache<string, Entry<unknown>>({
    max: deps.maxEntries,
    // Past the stale limit an entry is useless; its own clock so tests can move time.
    ttl: Math.max(ttlMs, staleLimitMs, 1),
    ttlResolution: 0,
    perf: { now },
  });
  const inFlight = new Map<string, Promise<Lookup<unknown>>>();
  metrics.trackEntries(() => cache.size);

  async function lookup<T>(call: CacheableCall<T>): Promise<Lookup<T>> {
    const cached = call.read();
    if (cached !== undefined && now() - cached.fetchedAtMs < ttlMs) {
      if (call.accept(cached.value)) {
        metrics.count('hits');
        return { value: cached.value, source: 'cache', fetchedAtMs: cached.fetchedAtMs };
      }
      // A failing result is never served from cache: the user may have fixed it a moment ago.
      metrics.count('failingRechecks');
    } else {
      metrics.count('misses');
    }
    try {
      return await shareFleetCall(call);
    } catch (error) {
      return staleOrThrow(call, error);
    }
  }

  function shareFleetCall<T>(call: CacheableCall<T>): Promise<Lookup<T>> {
    const pending = inFlight.get(call.key) as Promise<Lookup<T>> | undefined;
    if (pending !== undefined) {
      metrics.count('coalesced');
      return pending;
    }
    const asked = askFleet(call).finally(() => inFlight.delete(call.key));
    inFlight.set(call.key, asked);
    return asked;
  }

  async function askFleet<T>(call: CacheableCall<T>): Promise<Lookup<T>> {
    // The answer is at least as fresh as the moment we asked: age it from there.
    const askedAtMs = now();
    let value: T;
    try {
      value = await call.load();
    } catch (error) {
      metrics.fleetCall(call.endpoint, toGatewayError(error).code);
      throw error;
    }
    metrics.fleetCall(call.endpoint, 'ok');
    call.save(value, askedAtMs);
    return { value, source: 'fleet', fetchedAtMs: askedAtMs };
  }

  // Errors are never cached; the fallback is re-read after the call (a store() may have landed).
  function staleOrThrow<T>(call: CacheableCall<T>, error: unknown): Lookup<T> {
    if (!isGatewayError(error) || !STALE_ALLOWED.has(error.code)) {
      if (isGatewayError(error) && error.code === 'TG_ERR_FLEET_NOT_FOUND') cache.delete(call.key);
      throw error;
    }
    const cached = call.read();
    if (cached === undefined || now() - cached.fetchedAtMs >= staleLimitMs || !call.accept(cached.value)) throw error;
    metrics.count('staleServes');
    return { value: cached.value, source: 'stale', fetchedAtMs: cached.fetchedAtMs };
  }

  return {
    lookup,
    // Each key holds one kind of value (its prefix says which), so this cast is the only one.
    read: <T>(key: string) => cache.get(key) as Entry<T> | undefined,
    // Writes unless a newer answer (a store() after a re-check) landed while this one was in flight.
    put: (key, value, fetchedAtMs) => {
      const current = cache.peek(key);
      if (current === undefined || current.fetchedAtMs <= fetchedAtMs) cache.set(key, { value, fetchedAtMs });
    },
    remove: (key) => void cache.delete(key),
    size: () => cache.size,
  };
}

/** A call whose answer lives under one key. */
function underOneKey<T>(entries: CoalescingCache, key: string, endpoint: FleetEndpoint, load: () => Promise<T>, accept: (value: T) => boolean): CacheableCall<T> {
  return { key, endpoint, load, accept, read: () => entries.read<T>(key), save: (value, fetchedAtMs) => entries.put(key, value, fetchedAtMs) };
}

// The identifier key holds only the host id, so store() after a re-check updates both routes.
function underIdentifierAlias(entries: CoalescingCache, fleet: FleetClient, identifier: string, accept: (host: FleetHost) => boolean): CacheableCall<FleetHost> {
  const aliasKey = `identifier:${identifier}`;
  return {
    key: aliasKey,
    endpoint: 'getHostByIdentifier',
    load: () => fleet.getHostByIdentifier(identifier),
    accept,
    read: () => {
      const alias = entries.read<number>(aliasKey);
      const host = alias === undefined ? undefined : entries.read<FleetHost>(hostKey(alias.value));
      if (alias === undefined || host === undefined) return undefined;
      return { value: host.value, fetchedAtMs: Math.min(alias.fetchedAtMs, host.fetchedAtMs) };
    },
    save: (host, fetchedAtMs) => {
      entries.put(hostKey(host.id), host, fetchedAtMs);
      entries.put(aliasKey, host.id, fetchedAtMs);
    },
  };
}

function underEmail(entries: CoalescingCache, fleet: FleetClient, email: string): CacheableCall<number[]> {
  const wanted = email.trim().toLowerCase();
  const key = `email:${wanted}`;
  return {
    key,
    endpoint: 'findHostsByEmail',
    load: async () => [...new Set((await fleet.findHostsByEmail(wanted)).map((host) => host.id))],
    accept: nonEmpty,
    read: () => entries.read<number[]>(key),
    // "No device" is a failing answer: not kept, and an older list must not outlive it as stale.
    save: (ids, fetchedAtMs) => (ids.length > 0 ? entries.put(key, ids, fetchedAtMs) : entries.remove(key)),
  };
}

async function loadDeviceEmails(fleet: FleetClient, hostId: number): Promise<string[]> {
  const emails = (await fleet.getDeviceMapping(hostId)).map((entry) => entry.email.trim().toLowerCase());
  return [...new Set(emails)];
}

async function loadPolicyCreatedAt(fleet: FleetClient, teamId: number | null): Promise<ReadonlyMap<number, Date>> {
  const policies = teamId === null ? await fleet.listGlobalPolicies() : await fleet.listTeamPolicies(teamId);
  return new Map(policies.flatMap((policy) => (policy.createdAt === null ? [] : [[policy.id, policy.createdAt] as const])));
}

export function createPostureCache(deps: PostureCacheDeps): PostureCache {
  const entries = createCoalescingCache(deps);
  const intern = createPolicyInterner();
  // Hosts enter the cache with their policy results shared (see intern-policies.ts).
  const fleet: FleetClient = {
    ...deps.fleet,
    getHost: async (id) => intern(await deps.fleet.getHost(id)),
    getHostByIdentifier: async (identifier) => intern(await deps.fleet.getHostByIdentifier(identifier)),
  };
  return {
    hostById: (id, accept) => entries.lookup(underOneKey(entries, hostKey(id), 'getHost', () => fleet.getHost(id), accept)),
    hostByIdentifier: (identifier, accept) => entries.lookup(underIdentifierAlias(entries, fleet, identifier, accept)),
    hostIdsForEmail: (email) => entries.lookup(underEmail(entries, fleet, email)),
    deviceEmails: (hostId, accept = nonEmpty) =>
      entries.lookup(underOneKey(entries, `mapping:${hostId}`, 'getDeviceMapping', () => loadDeviceEmails(fleet, hostId), accept)),
    policyCreatedAt: (teamId) => {
      const endpoint = teamId === null ? 'listGlobalPolicies' : 'listTeamPolicies';
      return entries.lookup(underOneKey(entries, `policies:${teamId ?? 'global'}`, endpoint, () => loadPolicyCreatedAt(fleet, teamId), () => true));
    },
    // A re-check's answer is the newest there is: it replaces whatever is cached.
    store: (host) => entries.put(hostKey(host.id), intern(host), deps.now()),
    size: () => entries.size(),
  };
}
