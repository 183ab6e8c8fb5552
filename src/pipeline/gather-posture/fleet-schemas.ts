// Zod schemas for the Fleet REST responses the gateway reads, and their normalisation into small
// gateway types. Parsing is lenient (Fleet adds fields often) but strict on what decisions depend on.
import { z } from 'zod';
import { GatewayError } from '../../errors.ts';

// Fleet encodes "never" as null, an empty string or Go's zero time (0001-01-01T00:00:00Z).
const fleetTime = z
  .string()
  .nullish()
  .refine((value) => value == null || value === '' || !Number.isNaN(Date.parse(value)), {
    message: 'not a timestamp',
  });

// `response` is "" when the host has not reported a result yet (newly added policy, host
// offline since): https://fleetdm.com/docs/rest-api/rest-api#get-host
export const policyResponseSchema = z.enum(['pass', 'fail', '']);
export type FleetPolicyResponse = z.infer<typeof policyResponseSchema>;

export const hostPolicySchema = z.object({
  id: z.number().int(),
  name: z.string(),
  query: z.string().optional(),
  description: z.string().nullish(),
  resolution: z.string().nullish(),
  platform: z.string().nullish(),
  // `critical` is a Fleet Premium field; free servers omit it.
  critical: z.boolean().nullish(),
  response: policyResponseSchema,
});

export const deviceMappingEntrySchema = z.object({
  email: z.string(),
  source: z.string().nullish(),
});
export type FleetDeviceMappingEntry = { email: string; source: string };

export const hostSchema = z.object({
  id: z.number().int(),
  uuid: z.string(),
  hostname: z.string(),
  display_name: z.string().nullish(),
  hardware_serial: z.string().nullish(),
  platform: z.string(),
  os_version: z.string().nullish(),
  status: z.string().nullish(),
  seen_time: fleetTime,
  policy_updated_at: fleetTime,
  // The list route and the device-token route leave some of these out.
  refetch_requested: z.boolean().nullish(),
  // Fleet 4.82 renamed teams to fleets and sends both keys: read `fleet_id ?? team_id`.
  team_id: z.number().int().nullish(),
  fleet_id: z.number().int().nullish(),
  issues: z.object({ failing_policies_count: z.number().int().nullish() }).nullish(),
  policies: z.array(hostPolicySchema).nullish(),
  // Only on GET /hosts with device_mapping=true.
  device_mapping: z.array(deviceMappingEntrySchema).nullish(),
});

export const hostDetailResponseSchema = z.object({ host: hostSchema });
export const hostListResponseSchema = z.object({ hosts: z.array(hostSchema) });
export const deviceMappingResponseSchema = z.object({
  host_id: z.number().int(),
  device_mapping: z.array(deviceMappingEntrySchema).nullish(),
});

export const policySummarySchema = z.object({
  id: z.number().int(),
  name: z.string(),
  critical: z.boolean().nullish(),
  platform: z.string().nullish(),
  team_id: z.number().int().nullish(),
  fleet_id: z.number().int().nullish(),
  // Aggregates refreshed by a Fleet background job; null before its first run.
  passing_host_count: z.number().int().nullish(),
  failing_host_count: z.number().int().nullish(),
  host_count_updated_at: fleetTime,
  // When the policy was added: a host reports "" for a new policy until its next policy run.
  created_at: fleetTime,
});
// Fleet's list structs use `omitempty`, so an empty list may arrive as null or not at all.
export const policyListResponseSchema = z.object({ policies: z.array(policySummarySchema).nullish() });
// GET /teams/{id}/policies: the team's own policies plus the global ones it inherits
// (with merge_inherited=true Fleet returns them all under `policies` instead).
export const teamPolicyListResponseSchema = z.object({
  policies: z.array(policySummarySchema).nullish(),
  inherited_policies: z.array(policySummarySchema).nullish(),
});
export const policyDetailResponseSchema = z.object({ policy: policySummarySchema });
// POST /hosts/{id}/refetch answers `{}`.
export const refetchResponseSchema = z.object({});

// https://fleetdm.com/docs/rest-api/rest-api#handling-errors — `errors` and `uuid` may be absent.
export const fleetErrorBodySchema = z.object({
  message: z.string(),
  errors: z.array(z.object({ name: z.string(), reason: z.string() })).nullish(),
  uuid: z.string().nullish(),
});
export type FleetErrorBody = z.infer<typeof fleetErrorBodySchema>;

export interface FleetPolicyResult {
  id: number;
  name: string;
  description: string;
  resolution: string;
  critical: boolean;
  platform: string;
  response: FleetPolicyResponse;
}

export interface FleetHost {
  id: number;
  uuid: string;
  hostname: string;
  displayName?: string;
  hardwareSerial: string;
  platform: string;
  osVersion: string;
  /** online | offline | new | mia ("" when Fleet left it out). */
  status: string;
  seenTime: Date | null;
  policyUpdatedAt: Date | null;
  refetchRequested: boolean;
  teamId: number | null;
  failingPoliciesCount: number;
  policies: FleetPolicyResult[];
}

/** A host from GET /hosts; `deviceMapping` is null when the response did not include it. */
export interface FleetListedHost extends FleetHost {
  deviceMapping: FleetDeviceMappingEntry[] | null;
}

export interface FleetPolicySummary {
  id: number;
  name: string;
  critical: boolean;
  passingHostCount: number;
  failingHostCount: number;
  hostCountUpdatedAt: Date | null;
  /** When the policy was created (null when Fleet left it out). */
  createdAt: Date | null;
}

function toDate(value: string | null | undefined): Date | null {
  if (value == null || value === '') return null;
  const date = new Date(value);
  return date.getUTCFullYear() <= 1 ? null : date;
}

function parseWith<S extends z.ZodType>(schema: S, json: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  throw new GatewayError('TG_ERR_FLEET_BAD_RESPONSE', 'Fleet returned an unexpected response', {
    details: {
      response: what,
      issues: result.error.issues.slice(0, 10).map((issue) => ({
        path: issue.path.map(String).join('.'),
        message: issue.message,
      })),
    },
  });
}

function normalisePolicy(policy: z.infer<typeof hostPolicySchema>): FleetPolicyResult {
  return {
    id: policy.id,
    name: policy.name,
    description: policy.description ?? '',
    resolution: policy.resolution ?? '',
    critical: policy.critical ?? false,
    platform: policy.platform ?? '',
    response: policy.response,
  };
}

function normaliseMapping(entries: z.infer<typeof deviceMappingEntrySchema>[]): FleetDeviceMappingEntry[] {
  return entries.map((entry) => ({ email: entry.email, source: entry.source ?? '' }));
}

function normaliseHost(host: z.infer<typeof hostSchema>): FleetHost {
  const policies = (host.policies ?? []).map(normalisePolicy);
  // `issues.failing_policies_count` counts recorded fails only; recount when it is missing.
  const recounted = policies.filter((policy) => policy.response === 'fail').length;
  return {
    id: host.id,
    uuid: host.uuid,
    hostname: host.hostname,
    ...(host.display_name ? { displayName: host.display_name } : {}),
    hardwareSerial: host.hardware_serial ?? '',
    platform: host.platform,
    osVersion: host.os_version ?? '',
    status: host.status ?? '',
    seenTime: toDate(host.seen_time),
    policyUpdatedAt: toDate(host.policy_updated_at),
    refetchRequested: host.refetch_requested ?? false,
    teamId: host.fleet_id ?? host.team_id ?? null,
    failingPoliciesCount: host.issues?.failing_policies_count ?? recounted,
    policies,
  };
}

function normalisePolicySummary(policy: z.infer<typeof policySummarySchema>): FleetPolicySummary {
  return {
    id: policy.id,
    name: policy.name,
    critical: policy.critical ?? false,
    passingHostCount: policy.passing_host_count ?? 0,
    failingHostCount: policy.failing_host_count ?? 0,
    hostCountUpdatedAt: toDate(policy.host_count_updated_at),
    createdAt: toDate(policy.created_at),
  };
}

/** GET /hosts/{id} and GET /hosts/identifier/{identifier}. */
export function parseHostDetail(json: unknown): FleetHost {
  return normaliseHost(parseWith(hostDetailResponseSchema, json, 'host detail').host);
}

/** GET /hosts. */
export function parseHostList(json: unknown): FleetListedHost[] {
  return parseWith(hostListResponseSchema, json, 'host list').hosts.map((host) => ({
    ...normaliseHost(host),
    deviceMapping: host.device_mapping == null ? null : normaliseMapping(host.device_mapping),
  }));
}

/** GET /hosts/{id}/device_mapping. */
export function parseDeviceMapping(json: unknown): { hostId: number; deviceMapping: FleetDeviceMappingEntry[] } {
  const body = parseWith(deviceMappingResponseSchema, json, 'device mapping');
  return { hostId: body.host_id, deviceMapping: normaliseMapping(body.device_mapping ?? []) };
}

/** GET /global/policies (team policy lists have the same item shape). */
export function parseGlobalPolicies(json: unknown): FleetPolicySummary[] {
  return (parseWith(policyListResponseSchema, json, 'policy list').policies ?? []).map(normalisePolicySummary);
}

/** GET /teams/{id}/policies: the team's policies, then the inherited global ones (each id once). */
export function parseTeamPolicies(json: unknown): FleetPolicySummary[] {
  const body = parseWith(teamPolicyListResponseSchema, json, 'team policy list');
  const byId = new Map<number, z.infer<typeof policySummarySchema>>();
  for (const policy of [...(body.policies ?? []), ...(body.inherited_policies ?? [])]) {
    if (!byId.has(policy.id)) byId.set(policy.id, policy);
  }
  return [...byId.values()].map(normalisePolicySummary);
}

/** GET /global/policies/{id} and /teams/{team_id}/policies/{policy_id}. */
export function parsePolicyDetail(json: unknown): FleetPolicySummary {
  return normalisePolicySummary(parseWith(policyDetailResponseSchema, json, 'policy detail').policy);
}

/** POST /hosts/{id}/refetch. */
export function parseRefetch(json: unknown): void {
  parseWith(refetchResponseSchema, json, 'refetch');
}

const ERROR_BY_STATUS: ReadonlyArray<[(status: number) => boolean, GatewayError['code'], string]> = [
  [(s) => s === 401 || s === 403, 'TG_ERR_FLEET_UNAUTHORIZED', 'Fleet rejected the gateway credentials'],
  [(s) => s === 404, 'TG_ERR_FLEET_NOT_FOUND', 'Device not found in Fleet'],
  [(s) => s === 429, 'TG_ERR_FLEET_RATE_LIMITED', 'Fleet is rate limiting the gateway'],
  [(s) => s >= 500 && s <= 599, 'TG_ERR_FLEET_UNAVAILABLE', 'Fleet is unavailable'],
];

/**
 * Maps a non-2xx Fleet answer to a GatewayError by status first (Fleet's `message` varies by
 * version). Fleet's own text goes into `details` only: it may name internals we do not show users.
 */
export function parseFleetError(status: number, json: unknown, extraDetails: Record<string, unknown> = {}): GatewayError {
  const body = fleetErrorBodySchema.safeParse(json);
  const match = ERROR_BY_STATUS.find(([test]) => test(status));
  const [code, message] = match ? [match[1], match[2]] : (['TG_ERR_FLEET_BAD_RESPONSE', 'Fleet returned an unexpected response'] as const);
  const details: Record<string, unknown> = { fleetStatus: status, ...extraDetails };
  if (body.success) {
    details.fleetMessage = body.data.message;
    if (body.data.errors?.length) details.fleetErrors = body.data.errors;
    if (body.data.uuid) details.fleetErrorUuid = body.data.uuid;
  }
  return new GatewayError(code, message, { details });
}
