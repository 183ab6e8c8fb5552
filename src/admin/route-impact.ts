// What a route change would do before it is saved: how many hosts pass each required Fleet policy, and
// which users who were let in recently would be turned away by the new rules (replayed from the decision
// journal's groups, policy results and trust scores; check-in and policy ages are not replayed).
import type { DeviceRule, RouteConfig, TrustRule } from '../config/schema.ts';
import { isUserAllowed } from '../pipeline/decide/decide.ts';
import type { FleetPolicySummary } from '../pipeline/gather-posture/fleet-schemas.ts';
import type { JournalEntry } from './decision-journal.ts';

export interface PolicyImpact {
  /** The id or name as the rule lists it. */
  readonly wanted: number | string;
  readonly policy: FleetPolicySummary | undefined;
}

export interface UserImpact {
  readonly user: string;
  readonly device: string | undefined;
  readonly lastAllowed: string;
  /** denied: the new rules turn them away; warned / reported: let in with a warning or a log line. */
  readonly consequence: 'denied' | 'warned' | 'reported';
  readonly why: readonly string[];
}

export interface RouteImpact {
  readonly policies: readonly PolicyImpact[];
  readonly users: readonly UserImpact[];
  /** Users let in recently whose outcome cannot be told from what was recorded (e.g. no device check yet). */
  readonly unknown: ReadonlyArray<{ user: string; why: string }>;
  /** How many recent allowed requests on this route were replayed. */
  readonly replayed: number;
}

export function policyImpact(rule: DeviceRule | undefined, fleetPolicies: readonly FleetPolicySummary[] | undefined): PolicyImpact[] {
  if (!rule) return [];
  const wanted: Array<number | string> = [...rule.requirePolicies];
  if (rule.requireCritical) for (const p of fleetPolicies ?? []) if (p.critical && !wanted.includes(p.id) && !wanted.includes(p.name)) wanted.push(p.id);
  return wanted.map((w) => ({ wanted: w, policy: fleetPolicies?.find((p) => (typeof w === 'number' ? p.id === w : p.name === w)) }));
}

/** Replays the newest allowed decision of each user on `routeName` against the new `route`. */
export function routeImpact(route: RouteConfig, routeName: string, entries: readonly JournalEntry[], fleetPolicies: readonly FleetPolicySummary[] | undefined, nowMs: number): RouteImpact {
  const newest = new Map<string, JournalEntry>();
  let replayed = 0;
  for (const entry of entries) {
    if (entry.route !== routeName || entry.verdict !== 'allow' || !entry.user) continue;
    replayed++;
    if (!newest.has(entry.user)) newest.set(entry.user, entry);
  }
  const users: UserImpact[] = [];
  const unknown: Array<{ user: string; why: string }> = [];
  for (const [user, entry] of newest) {
    const outcome = replay(route, entry, fleetPolicies, nowMs);
    if (outcome.unknown) unknown.push({ user, why: outcome.unknown });
    if (outcome.consequence) users.push({ user, device: entry.device, lastAllowed: entry.time, consequence: outcome.consequence, why: outcome.why });
  }
  return { policies: policyImpact(route.device, fleetPolicies), users, unknown, replayed };
}

interface Replayed {
  consequence?: UserImpact['consequence'];
  why: string[];
  unknown?: string;
}

function replay(route: RouteConfig, entry: JournalEntry, fleetPolicies: readonly FleetPolicySummary[] | undefined, nowMs: number): Replayed {
  if (!isUserAllowed(route, { email: entry.user ?? '', groups: entry.groups })) {
    return { consequence: 'denied', why: [`not in the allowed groups, domains or emails (groups: ${entry.groups.join(', ') || 'none'})`] };
  }
  const found: Array<{ why: string; consequence: UserImpact['consequence'] }> = [];
  let unknown: string | undefined;
  if (route.device) {
    const device = deviceProblems(route.device, entry.policyResults, fleetPolicies, nowMs);
    if (device.unknown) unknown = device.unknown;
    for (const why of device.problems) found.push({ why, consequence: consequenceOf(route.device, nowMs) });
  }
  if (route.minTrustScore) {
    const trust = trustProblem(route.minTrustScore, entry.trustScore);
    if (trust === undefined) unknown ??= 'no trust score was computed for this user on this route';
    else if (trust) found.push({ why: trust, consequence: consequenceOf(route.minTrustScore, nowMs) });
  }
  if (found.length === 0) return { why: [], unknown };
  const order: Array<UserImpact['consequence']> = ['denied', 'warned', 'reported'];
  const consequence = order.find((c) => found.some((f) => f.consequence === c));
  return { consequence, why: found.map((f) => f.why), unknown };
}

/** What the rule's rollout mode does with a device or score that fails it. */
function consequenceOf(rule: DeviceRule | TrustRule, nowMs: number): UserImpact['consequence'] {
  if (rule.mode === 'report-only') return 'reported';
  if (rule.mode === 'warn' && rule.warnUntil !== undefined && nowMs < Date.parse(rule.warnUntil)) return 'warned';
  return 'denied';
}

function trustProblem(rule: TrustRule, score: number | undefined): string | false | undefined {
  if (score === undefined) return undefined;
  return score < rule.min ? `trust score ${score} is below ${rule.min}` : false;
}

function deviceProblems(rule: DeviceRule, results: Readonly<Record<number, string>>, fleetPolicies: readonly FleetPolicySummary[] | undefined, nowMs: number): { problems: string[]; unknown?: string } {
  const ids = Object.keys(results).map(Number);
  if (ids.length === 0) return { problems: [], unknown: 'no device check was recorded for this user on this route' };
  const required = new Map<number, string>();
  const problems: string[] = [];
  let unknown: string | undefined;
  if (rule.requirePolicies.length === 0 && !rule.requireCritical) for (const id of ids) required.set(id, nameOf(id, fleetPolicies));
  for (const wanted of rule.requirePolicies) {
    const id = typeof wanted === 'number' ? wanted : fleetPolicies?.find((p) => p.name === wanted)?.id;
    if (id === undefined) unknown = `policy "${wanted}" cannot be matched to a Fleet policy id`;
    else required.set(id, nameOf(id, fleetPolicies));
  }
  if (rule.requireCritical) {
    if (!fleetPolicies) unknown = 'Fleet did not say which policies are critical';
    for (const p of fleetPolicies ?? []) if (p.critical) required.set(p.id, p.name);
  }
  for (const [id, name] of required) {
    const response = results[id];
    if (response === undefined) problems.push(`no result for "${name}"`);
    else if (response === 'fail') problems.push(`fails "${name}"`);
    else if (response !== 'pass' && !acceptsEmpty(rule, fleetPolicies?.find((p) => p.id === id), nowMs)) problems.push(`no result yet for "${name}"`);
  }
  return { problems, unknown };
}

function acceptsEmpty(rule: DeviceRule, policy: FleetPolicySummary | undefined, nowMs: number): boolean {
  if (rule.emptyResult === 'pass') return true;
  return rule.emptyResult === 'grace' && policy?.createdAt != null && nowMs - policy.createdAt.getTime() < rule.emptyResultGrace;
}

function nameOf(id: number, fleetPolicies: readonly FleetPolicySummary[] | undefined): string {
  return fleetPolicies?.find((p) => p.id === id)?.name ?? `policy ${id}`;
}
