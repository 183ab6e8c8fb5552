// Shares identical policy results between cached hosts: 100,000 laptops report the same few policies
// with the same names and remediation texts, so each distinct (policy, result) is kept once.
import { LRUCache } from 'lru-cache';
import type { FleetHost, FleetPolicyResult } from './fleet-schemas.ts';

export function createPolicyInterner(maxDistinct = 10_000): (host: FleetHost) => FleetHost {
  const shared = new LRUCache<string, FleetPolicyResult>({ max: maxDistinct });
  const intern = (policy: FleetPolicyResult): FleetPolicyResult => {
    const key = [policy.id, policy.response, policy.critical, policy.platform, policy.name, policy.description, policy.resolution].join('\u0000');
    const found = shared.get(key);
    if (found) return found;
    const frozen = Object.freeze({ ...policy });
    shared.set(key, frozen);
    return frozen;
  };
  return (host) => ({ ...host, policies: host.policies.map(intern) });
}
