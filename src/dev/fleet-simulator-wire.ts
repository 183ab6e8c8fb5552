// Fleet's JSON wire format for the simulator: host, host-list, policy and error bodies with the
// field set of Fleet's documented examples (https://fleetdm.com/docs/rest-api/rest-api#get-host).
import { randomUUID } from 'node:crypto';
import { resolveTimeMs } from './fleet-simulator-data.ts';
import type { SimulatorPolicy, SimulatorPolicyResponse } from './fleet-simulator-data.ts';
import type { SimulatedHost, SimulatorState } from './fleet-simulator-state.ts';

const LINUX_PLATFORMS = new Set(['ubuntu', 'rhel', 'centos', 'debian', 'fedora', 'amzn', 'arch', 'linux']);
// Fleet sorts a host's policies failing first, then no result yet, then passing.
const RESPONSE_ORDER: Record<SimulatorPolicyResponse, number> = { fail: 0, '': 1, pass: 2 };
// Keys the list route leaves out (they only come with GET /hosts/{id}).
const DETAIL_ONLY_KEYS = ['orbit_version', 'fleet_desktop_version', 'scripts_enabled', 'disk_encryption_enabled', 'batteries', 'maintenance_window', 'users', 'labels', 'packs', 'policies', 'software'];

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Fleet reports a policy for a host when the policy targets the host's platform ('' = all). */
function appliesTo(policy: SimulatorPolicy, platform: string): boolean {
  if (policy.platform === '') return true;
  const targets = policy.platform.split(',').map((entry) => entry.trim());
  return targets.includes(platform) || (targets.includes('linux') && LINUX_PLATFORMS.has(platform));
}

export function hostPolicies(state: SimulatorState, host: SimulatedHost) {
  return state.data.policies
    .filter((policy) => policy.team_id === null || policy.team_id === host.data.team_id)
    .filter((policy) => host.results.has(policy.id) || appliesTo(policy, host.data.platform))
    .map((policy) => ({
      id: policy.id,
      name: policy.name,
      query: policy.query,
      description: policy.description,
      resolution: policy.resolution,
      platform: policy.platform,
      response: host.results.get(policy.id) ?? '',
      critical: policy.critical,
    }))
    .sort((a, b) => RESPONSE_ORDER[a.response] - RESPONSE_ORDER[b.response] || a.id - b.id);
}

// Every key of Fleet's GET /hosts/{id} example in Fleet's order; per-host values override these.
const HOST_TEMPLATE = {
  created_at: '', updated_at: '', id: 0, detail_updated_at: '', last_restarted_at: '', software_updated_at: '',
  label_updated_at: '', policy_updated_at: '', last_enrolled_at: '', seen_time: '', refetch_requested: false,
  hostname: '', uuid: '', platform: '', osquery_version: '5.14.1', orbit_version: '1.38.1',
  fleet_desktop_version: '1.38.1', scripts_enabled: true, os_version: '', build: '', platform_like: '',
  code_name: '', uptime: 604_800_000_000_000, memory: 17_179_869_184, cpu_type: 'x86_64', cpu_subtype: '158',
  cpu_brand: 'Intel(R) Core(TM) i7-1185G7 CPU @ 3.00GHz', cpu_physical_cores: 8, cpu_logical_cores: 8,
  hardware_vendor: '', hardware_model: '', hardware_version: '', hardware_serial: '', computer_name: '',
  display_name: '', public_ip: '', primary_ip: '', primary_mac: '', distributed_interval: 10,
  config_tls_refresh: 10, logger_tls_period: 10, team_id: null as number | null, pack_stats: null,
  team_name: null as string | null, additional: {}, gigs_disk_space_available: 212.4,
  percent_disk_space_available: 43, gigs_total_disk_space: 494.4, disk_encryption_enabled: true,
  status: 'online', display_text: '',
  issues: { failing_policies_count: 0, critical_vulnerabilities_count: 0, total_issues_count: 0 },
  batteries: [] as unknown[], geolocation: null, maintenance_window: null, users: [] as unknown[],
  labels: [] as unknown[], packs: [] as unknown[], policies: [] as unknown[], software: null as unknown[] | null,
  mdm: { encryption_key_available: false, enrollment_status: null as string | null, name: '', connected_to_fleet: false, server_url: null, device_status: 'unlocked', pending_action: '', profiles: null },
};

function timeFields(host: SimulatedHost) {
  const enrolled = iso(host.startedMs - 90 * 86_400_000);
  const reported = iso(host.policyUpdatedAtMs);
  return {
    created_at: enrolled, updated_at: iso(host.seenTimeMs), detail_updated_at: reported,
    last_restarted_at: iso(host.seenTimeMs - 7 * 86_400_000), software_updated_at: reported,
    label_updated_at: reported, policy_updated_at: reported, last_enrolled_at: enrolled, seen_time: iso(host.seenTimeMs),
  };
}

function identityFields(host: SimulatedHost) {
  const name = host.data.computer_name ?? host.data.hostname;
  return {
    id: host.data.id, hostname: host.data.hostname, uuid: host.data.uuid, platform: host.data.platform,
    os_version: host.data.os_version, hardware_model: host.data.hardware_model, hardware_serial: host.data.hardware_serial,
    computer_name: name, display_name: name, display_text: host.data.hostname,
    primary_ip: host.data.primary_ip ?? `10.10.0.${host.data.id % 250}`,
    primary_mac: `02:42:ac:1b:00:${(host.data.id % 256).toString(16).padStart(2, '0')}`,
    team_id: host.data.team_id, team_name: host.data.team_id === null ? null : `Team ${host.data.team_id}`,
  };
}

function macFields(host: SimulatedHost, enrolled: string) {
  const encrypted = host.data.disk_encryption_enabled;
  const user = { uid: 501, username: host.data.hostname.split('-')[0] ?? 'user', type: '', groupname: 'staff', shell: '/bin/zsh' };
  const allHosts = { created_at: enrolled, updated_at: enrolled, id: 6, name: 'All Hosts', description: 'All hosts which have enrolled in Fleet', query: 'SELECT 1;', platform: '', label_type: 'builtin', label_membership_type: 'dynamic' };
  if (host.data.platform !== 'darwin') return { platform_like: host.data.platform, users: [user], labels: [allHosts] };
  return {
    platform_like: 'darwin', cpu_type: 'arm64e', cpu_subtype: 'ARM64E', cpu_brand: 'Apple M2', hardware_vendor: 'Apple Inc.',
    batteries: [{ cycle_count: 112, health: 'Normal' }], users: [user], labels: [allHosts],
    mdm: { ...HOST_TEMPLATE.mdm, encryption_key_available: encrypted, enrollment_status: 'On (manual)', name: 'Fleet', connected_to_fleet: true },
  };
}

/** The GET /hosts/{id} body's `host`, built from the template. */
export function hostDetailBody(state: SimulatorState, host: SimulatedHost, includeSoftware: boolean) {
  const policies = hostPolicies(state, host);
  const failing = policies.filter((policy) => policy.response === 'fail').length;
  const times = timeFields(host);
  return {
    ...HOST_TEMPLATE,
    ...times,
    ...identityFields(host),
    ...macFields(host, times.created_at),
    refetch_requested: host.refetchRequested,
    disk_encryption_enabled: host.data.disk_encryption_enabled,
    status: host.status,
    issues: { failing_policies_count: failing, critical_vulnerabilities_count: 0, total_issues_count: failing },
    policies,
    software: includeSoftware ? [{ id: 1, name: 'osquery', version: '5.14.1', source: 'apps', browser: '', generated_cpe: '', vulnerabilities: null }] : null,
  };
}

export function deviceMappingBody(host: SimulatedHost) {
  return host.data.emails.map((entry) => ({ email: entry.email, source: entry.source }));
}

/** One GET /hosts item: the summary fields, plus `device_mapping` only when it was asked for. */
export function hostListItemBody(state: SimulatorState, host: SimulatedHost, withDeviceMapping: boolean) {
  const body: Record<string, unknown> = { ...hostDetailBody(state, host, false) };
  for (const key of DETAIL_ONLY_KEYS) delete body[key];
  if (withDeviceMapping) body.device_mapping = deviceMappingBody(host);
  return body;
}

/** One policy as GET /global/policies and GET /teams/{id}/policies list it. */
function policyListItemBody(state: SimulatorState, policy: SimulatorPolicy, updatedAt: string) {
  const hostList = [...state.hosts.values()];
  const createdAt = iso(resolveTimeMs(policy.created_at, state.startedMs));
  return {
    id: policy.id,
    name: policy.name,
    query: policy.query,
    description: policy.description,
    critical: policy.critical,
    author_id: 1,
    author_name: 'Trustgate demo',
    author_email: 'security@example.com',
    team_id: policy.team_id,
    resolution: policy.resolution,
    platform: policy.platform,
    created_at: createdAt,
    updated_at: createdAt,
    passing_host_count: hostList.filter((host) => host.results.get(policy.id) === 'pass').length,
    failing_host_count: hostList.filter((host) => host.results.get(policy.id) === 'fail').length,
    host_count_updated_at: updatedAt,
  };
}

export function globalPoliciesBody(state: SimulatorState) {
  const updatedAt = iso(state.now());
  return state.data.policies.filter((policy) => policy.team_id === null).map((policy) => policyListItemBody(state, policy, updatedAt));
}

/** GET /teams/{id}/policies: the team's own policies and, separately, the global ones it inherits. */
export function teamPoliciesBody(state: SimulatorState, teamId: number) {
  const updatedAt = iso(state.now());
  const own = state.data.policies.filter((policy) => policy.team_id === teamId);
  return { policies: own.map((policy) => policyListItemBody(state, policy, updatedAt)), inherited_policies: globalPoliciesBody(state) };
}

/** Fleet's error envelope (server/service/transport_error.go). */
export function errorBody(message: string, reason: string = message, withUuid = true) {
  return { message, errors: [{ name: 'base', reason }], ...(withUuid ? { uuid: randomUUID() } : {}) };
}
