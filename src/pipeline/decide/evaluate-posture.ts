// Pure evaluation of a route's device rule against Fleet's view of a host: which required policies
// fail or have no result yet, whether the device is stale, and so whether it complies. Shared by the
// decision and by the posture cache (a non-compliant host is never served from cache).
import type { DeviceRule } from '../../config/schema.ts';
import type { Reason } from '../../config/reasons.ts';
import type { FleetHost, FleetPolicyResult } from '../gather-posture/fleet-schemas.ts';

export type PostureReason = Extract<Reason, 'policy-failed' | 'policy-pending' | 'policy-missing' | 'device-stale'>;

export interface PolicyFinding {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly resolution: string;
  readonly critical: boolean;
  /** failed: Fleet says fail; pending: no result yet ("") and the route does not accept that. */
  readonly outcome: 'failed' | 'pending';
}

export interface HostVerdict {
  readonly host: FleetHost;
  readonly compliant: boolean;
  readonly reasons: readonly PostureReason[];
  readonly findings: readonly PolicyFinding[];
  /** Required policies (ids or names) that Fleet does not report for this host at all. */
  readonly missing: readonly (number | string)[];
  /** Set when the host or its policy results are older than the route allows. */
  readonly stale: { readonly seenAgeMs: number | null; readonly policyAgeMs: number | null } | undefined;
}

export interface EvaluationContext {
  readonly nowMs: number;
  /** When each policy was created in Fleet; needed for emptyResult "grace". Unknown = not in grace. */
  readonly policyCreatedAt?: ReadonlyMap<number, Date>;
}

export function evaluateHost(host: FleetHost, rule: DeviceRule, context: EvaluationContext): HostVerdict {
  const { required, missing } = requiredPolicies(host, rule);
  const findings: PolicyFinding[] = [];
  for (const policy of required) {
    const outcome = policyOutcome(policy, rule, context);
    if (outcome !== 'ok') findings.push({ ...describe(policy), outcome });
  }
  const stale = staleness(host, rule, context.nowMs);
  const reasons = new Set<PostureReason>();
  if (findings.some((f) => f.outcome === 'failed')) reasons.add('policy-failed');
  if (findings.some((f) => f.outcome === 'pending')) reasons.add('policy-pending');
  if (missing.length > 0) reasons.add('policy-missing');
  if (stale) reasons.add('device-stale');
  return { host, compliant: reasons.size === 0, reasons: [...reasons], findings, missing, stale };
}

/**
 * The policies a rule asks for: the listed ones (by id or exact name) plus, with requireCritical, every
 * critical one. A rule that lists nothing and does not ask for critical ones requires every policy
 * Fleet reports for the host (as Fleet's own conditional access does).
 */
function requiredPolicies(host: FleetHost, rule: DeviceRule): { required: FleetPolicyResult[]; missing: (number | string)[] } {
  if (rule.requirePolicies.length === 0 && !rule.requireCritical) return { required: host.policies, missing: [] };
  const required = new Map<number, FleetPolicyResult>();
  const missing: (number | string)[] = [];
  for (const wanted of rule.requirePolicies) {
    const found = host.policies.find((p) => (typeof wanted === 'number' ? p.id === wanted : p.name === wanted));
    if (found) required.set(found.id, found);
    else missing.push(wanted);
  }
  if (rule.requireCritical) for (const p of host.policies) if (p.critical) required.set(p.id, p);
  return { required: [...required.values()], missing };
}

function policyOutcome(policy: FleetPolicyResult, rule: DeviceRule, context: EvaluationContext): 'ok' | 'failed' | 'pending' {
  if (policy.response === 'pass') return 'ok';
  if (policy.response === 'fail') return 'failed';
  if (rule.emptyResult === 'pass') return 'ok';
  if (rule.emptyResult === 'grace') {
    const createdAt = context.policyCreatedAt?.get(policy.id);
    if (createdAt && context.nowMs - createdAt.getTime() < rule.emptyResultGrace) return 'ok';
  }
  return 'pending';
}

function staleness(host: FleetHost, rule: DeviceRule, nowMs: number): HostVerdict['stale'] {
  const seenAgeMs = host.seenTime ? nowMs - host.seenTime.getTime() : null;
  const policyAgeMs = host.policyUpdatedAt ? nowMs - host.policyUpdatedAt.getTime() : null;
  const seenStale = rule.maxCheckInAge !== undefined && (seenAgeMs === null || seenAgeMs > rule.maxCheckInAge);
  const policyStale = rule.maxPolicyAge !== undefined && (policyAgeMs === null || policyAgeMs > rule.maxPolicyAge);
  return seenStale || policyStale ? { seenAgeMs, policyAgeMs } : undefined;
}

function describe(policy: FleetPolicyResult): Omit<PolicyFinding, 'outcome'> {
  return {
    id: policy.id,
    name: policy.name,
    description: policy.description,
    resolution: policy.resolution,
    critical: policy.critical,
  };
}

export interface DevicesVerdict {
  readonly compliant: boolean;
  readonly hosts: readonly HostVerdict[];
}

/** Several devices (found by the user's email): `all` must comply, or `any` one. None is not compliant. */
export function combineHosts(verdicts: readonly HostVerdict[], match: DeviceRule['match']): DevicesVerdict {
  if (verdicts.length === 0) return { compliant: false, hosts: verdicts };
  const compliant = match === 'all' ? verdicts.every((v) => v.compliant) : verdicts.some((v) => v.compliant);
  return { compliant, hosts: verdicts };
}
