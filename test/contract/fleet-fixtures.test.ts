// Contract test: every real Fleet example body in ../shared/fixtures/fleet goes through the parser
// the gateway uses for its endpoint, so a drift between Fleet's wire format and our schemas fails here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { sharedFixturesPresent } from '../support/shared-fixtures.ts';
import type { ErrorCode } from '../../src/errors.ts';
import {
  parseDeviceMapping,
  parseFleetError,
  parseGlobalPolicies,
  parseHostDetail,
  parseHostList,
  parsePolicyDetail,
  parseRefetch,
  parseTeamPolicies,
} from '../../src/pipeline/gather-posture/fleet-schemas.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fleetFixturesDir = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'fleet');

function load(name: string): unknown {
  return JSON.parse(readFileSync(path.join(fleetFixturesDir, name), 'utf8'));
}

/** Fixture → check with the gateway's parser for that endpoint, or why the gateway never calls it. */
const SUCCESS_FIXTURES: Record<string, ((json: unknown) => void) | { unused: string }> = {
  'get-host-by-id.json': (json) => {
    const host = parseHostDetail(json);
    expect(host).toMatchObject({ id: 1, uuid: '309a4b7d-0000-0000-8e7f-26ae0815ede8', teamId: null, status: 'online', refetchRequested: false, failingPoliciesCount: 1, hardwareSerial: '', platform: 'rhel' });
    expect(host.seenTime?.toISOString()).toBe('2021-08-19T21:14:58.000Z');
    expect(host.policyUpdatedAt?.toISOString()).toBe('2023-06-26T18:33:15.000Z');
    expect(host.policies.map((policy) => [policy.id, policy.response])).toEqual([[2, 'fail'], [3, ''], [1, 'pass']]);
    expect(host.policies[1]).toMatchObject({ description: '', resolution: '', platform: '', critical: false });
  },
  'get-host-by-identifier.json': (json) => {
    const host = parseHostDetail(json);
    expect(host).toMatchObject({ id: 33, teamId: 2, displayName: 'dogfood-ubuntu-box', platform: 'ubuntu', failingPoliciesCount: 1 });
    expect(host.seenTime?.toISOString()).toBe('2022-10-14T17:45:41.000Z');
    expect(host.policies).toHaveLength(1);
    expect(host.policies[0]).toMatchObject({ id: 142, response: 'fail', critical: false });
    expect(host.policies[0]?.resolution).toContain('FileVault');
  },
  // Same host object minus policies/issues: proves the host schema copes with a partial host.
  'get-host-by-device-token.json': (json) => {
    const host = parseHostDetail(json);
    expect(host.policies).toEqual([]);
    expect(host.failingPoliciesCount).toBe(0);
    expect(host.policyUpdatedAt).toBeNull();
  },
  'list-hosts.json': (json) => {
    const hosts = parseHostList(json);
    expect(hosts).toHaveLength(1);
    expect(hosts[0]).toMatchObject({ id: 1, status: 'offline', teamId: null, deviceMapping: null, refetchRequested: false });
    expect(hosts[0]?.policies.map((policy) => policy.response)).toEqual(['fail']);
    expect(hosts[0]?.seenTime?.toISOString()).toBe('2020-11-05T06:03:39.000Z');
  },
  'get-host-device-mapping.json': (json) => {
    const mapping = parseDeviceMapping(json);
    expect(mapping.hostId).toBe(1);
    expect(mapping.deviceMapping.map((entry) => entry.source)).toEqual(['identity_provider', 'google_chrome_profiles', 'custom']);
    expect(new Set(mapping.deviceMapping.map((entry) => entry.email))).toEqual(new Set(['user@example.com']));
  },
  'list-global-policies.json': (json) => {
    const policies = parseGlobalPolicies(json);
    expect(policies.map((policy) => [policy.id, policy.critical, policy.passingHostCount, policy.failingHostCount])).toEqual([
      [1, false, 2000, 300],
      [2, true, 2300, 0],
    ]);
    expect(policies[0]?.hostCountUpdatedAt?.toISOString()).toBe('2023-12-20T15:23:57.000Z');
    expect(policies.map((policy) => policy.createdAt?.toISOString())).toEqual(['2021-12-15T15:23:57.000Z', '2021-12-31T14:52:27.000Z']);
  },
  // Team lists carry the team's policies and, separately, the global ones the team inherits.
  'list-team-policies.json': (json) => {
    const policies = parseTeamPolicies(json);
    expect(policies.map((policy) => [policy.id, policy.failingHostCount])).toEqual([[1, 300], [2, 0], [3, 3], [136, 9]]);
    expect(policies.at(-1)?.createdAt?.toISOString()).toBe('2022-08-04T19:30:18.000Z');
  },
  'list-team-policies-merge-inherited.json': (json) => {
    const policies = parseTeamPolicies(json);
    expect(policies.map((policy) => policy.id)).toContain(136);
    expect(policies.every((policy) => policy.createdAt instanceof Date)).toBe(true);
  },
  'get-global-policy.json': (json) => {
    expect(parsePolicyDetail(json)).toMatchObject({ id: 1, critical: false, passingHostCount: 2000, failingHostCount: 300 });
  },
  'get-team-policy.json': (json) => {
    const policy = parsePolicyDetail(json);
    expect(policy).toMatchObject({ id: 43, critical: true, passingHostCount: 0 });
    expect(policy.hostCountUpdatedAt).toBeNull();
  },
  'refetch-host-response.derived.json': (json) => {
    expect(() => parseRefetch(json)).not.toThrow();
  },
  'get-host-health.json': { unused: 'the gateway reads full host detail; the health summary lacks policy ids for passing checks' },
  'get-device-policies.json': { unused: 'device-token route: the token is known only to the device' },
  'get-device-desktop.json': { unused: 'device-token route polled by Fleet Desktop, not by servers' },
  'login-response.json': { unused: 'the gateway uses an API-only user token, it never logs in' },
};

/** Fleet status → gateway code; an error fixture with a status not listed here fails the test. */
const ERROR_CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'TG_ERR_FLEET_BAD_RESPONSE',
  401: 'TG_ERR_FLEET_UNAUTHORIZED',
  402: 'TG_ERR_FLEET_BAD_RESPONSE',
  403: 'TG_ERR_FLEET_UNAUTHORIZED',
  404: 'TG_ERR_FLEET_NOT_FOUND',
  422: 'TG_ERR_FLEET_BAD_RESPONSE',
  429: 'TG_ERR_FLEET_RATE_LIMITED',
};

function errorStatusOf(name: string): number | undefined {
  const match = /^error-(\d{3})-.+\.json$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

// The fixtures live outside this repository (shared by the team); a checkout without them has
// nothing to compare against, so skip rather than fail — except under CI=true, where that fails.
describe.skipIf(!sharedFixturesPresent(fleetFixturesDir))('Fleet wire contract (shared fixtures)', () => {
  const files = existsSync(fleetFixturesDir) ? readdirSync(fleetFixturesDir).filter((name) => name.endsWith('.json')).sort() : [];

  test('every fixture file is mapped to a parser or an explicit reason', () => {
    const unmapped = files.filter((name) => {
      const status = errorStatusOf(name);
      return status === undefined ? !(name in SUCCESS_FIXTURES) : !(status in ERROR_CODE_BY_STATUS);
    });
    expect(unmapped).toEqual([]);
    expect(Object.keys(SUCCESS_FIXTURES).filter((name) => !files.includes(name))).toEqual([]);
  });

  test.each(files.filter((name) => errorStatusOf(name) === undefined && typeof SUCCESS_FIXTURES[name] === 'function'))('%s parses', (name) => {
    const check = SUCCESS_FIXTURES[name];
    if (typeof check === 'function') check(load(name));
  });

  test.each(files.filter((name) => errorStatusOf(name) !== undefined))('%s maps by status', (name) => {
    const status = errorStatusOf(name) as number;
    const body = load(name) as { message: string; errors?: { reason: string }[] };
    const error = parseFleetError(status, body);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.code).toBe(ERROR_CODE_BY_STATUS[status]);
    // Fleet's text is for logs only: it is in details, never in the user-visible message.
    expect(error.details).toMatchObject({ fleetStatus: status, fleetMessage: body.message });
    expect(error.message).not.toContain(body.message);
    if (body.errors) expect(error.details?.fleetErrors).toEqual(body.errors);
  });

  test('fleet_id (Fleet 4.82+) wins over team_id and unknown fields are ignored', () => {
    const body = load('get-host-by-id.json') as { host: Record<string, unknown> };
    const renamed = { host: { ...body.host, team_id: 3, fleet_id: 3, fleet_name: 'Workstations', brand_new_field: { x: 1 } } };
    expect(parseHostDetail(renamed).teamId).toBe(3);
    expect(parseHostDetail({ host: { ...body.host, team_id: undefined, fleet_id: 9 } }).teamId).toBe(9);
  });

  test('a body that breaks the schema is TG_ERR_FLEET_BAD_RESPONSE with the issue path', () => {
    const body = load('get-host-by-id.json') as { host: { policies: Record<string, unknown>[] } };
    const broken = { host: { ...body.host, policies: [{ ...body.host.policies[0], response: 'maybe' }] } };
    const error = (() => {
      try {
        parseHostDetail(broken);
      } catch (caught) {
        return caught as GatewayError;
      }
      throw new Error('expected parseHostDetail to throw');
    })();
    expect(error.code).toBe('TG_ERR_FLEET_BAD_RESPONSE');
    expect(error.details?.issues).toEqual([expect.objectContaining({ path: 'host.policies.0.response' })]);
  });
});

describe('parseFleetError without a fixture', () => {
  test('5xx is unavailable and a non-JSON body still maps by status', () => {
    expect(parseFleetError(502, '<html>Bad gateway</html>').code).toBe('TG_ERR_FLEET_UNAVAILABLE');
    expect(parseFleetError(418, undefined).code).toBe('TG_ERR_FLEET_BAD_RESPONSE');
  });
});
