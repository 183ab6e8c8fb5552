// Cached hosts share identical policy results, and different results stay distinct.
import { expect, test } from 'vitest';
import type { FleetHost, FleetPolicyResult } from './fleet-schemas.ts';
import { createPolicyInterner } from './intern-policies.ts';

const policy = (response: FleetPolicyResult['response']): FleetPolicyResult => ({
  id: 1, name: 'Disk encryption enabled', description: 'FileVault on', resolution: 'Turn it on', critical: true, platform: 'darwin', response,
});
const host = (id: number, response: FleetPolicyResult['response']): FleetHost => ({
  id, uuid: `U${id}`, hostname: `h${id}`, hardwareSerial: '', platform: 'darwin', osVersion: '', status: 'online',
  seenTime: null, policyUpdatedAt: null, refetchRequested: false, teamId: null, failingPoliciesCount: 0, policies: [policy(response)],
});

test('identical policy results are one shared object; a different result is another', () => {
  const intern = createPolicyInterner();
  const a = intern(host(1, 'pass'));
  const b = intern(host(2, 'pass'));
  const c = intern(host(3, 'fail'));
  expect(a.policies[0]).toBe(b.policies[0]);
  expect(c.policies[0]).not.toBe(a.policies[0]);
  expect(c.policies[0]?.response).toBe('fail');
  expect(a.id).toBe(1);
  expect(b.hostname).toBe('h2');
  expect(Object.isFrozen(a.policies[0])).toBe(true);
});
