// The decision: a pure function of who, what and where → allow / deny / authenticate with reasons from
// one vocabulary (used alike by logs, metrics, pages and tests). A denial is a value, not an exception.
import type { RouteConfig } from '../../config/schema.ts';
import type { UserResult } from '../identify-user/identify-user.ts';
import type { DeviceResult } from '../identify-device/identify-device.ts';
import type { PostureResult } from '../gather-posture/gather-posture.ts';
import type { TrustResult } from '../gather-posture/gather-trust.ts';
import type { OpaRule } from '../../config/schema.ts';
import type { GatewayError } from '../../errors.ts';
import type { OpaAnswer } from './ask-opa.ts';
import type { Reason } from '../../config/reasons.ts';
import type { Grant } from '../../break-glass/grant.ts';
import { isCoverable } from '../../break-glass/is-coverable.ts';

export type Verdict = 'allow' | 'deny' | 'authenticate';

export interface Decision {
  readonly verdict: Verdict;
  readonly reasons: readonly Reason[];
  /** Free-text reasons OPA gave for a denial (logged and shown to admins, not part of the vocabulary). */
  readonly opaReasons?: readonly string[];
}

export interface DecisionInput {
  readonly route: RouteConfig;
  readonly publicPath: boolean;
  readonly user: UserResult;
  readonly device: DeviceResult;
  readonly posture: PostureResult;
  readonly trust: TrustResult;
  /** The user's active break-glass grant for this route and device, looked up before deciding. */
  readonly grant?: Grant | undefined;
}

export function decide(input: DecisionInput, nowMs: number): Decision {
  const decision = decideWithoutGrant(input, nowMs);
  // A grant opens a denial only when the route lets grants cover every one of its reasons.
  if (!input.grant || !isCoverable(decision, input.route.breakGlass)) return decision;
  return { verdict: 'allow', reasons: ['break-glass-active', ...decision.reasons] };
}

function decideWithoutGrant(input: DecisionInput, nowMs: number): Decision {
  if (input.publicPath) return { verdict: 'allow', reasons: ['public-path'] };
  if (!input.user.session) return { verdict: 'authenticate', reasons: [input.user.problem] };
  if (!isUserAllowed(input.route, input.user.session)) return { verdict: 'deny', reasons: ['user-not-allowed'] };
  const checks = [postureCheck(input, nowMs), trustCheck(input, nowMs)];
  const denied = checks.filter((c) => c.verdict === 'deny').flatMap((c) => c.reasons);
  if (denied.length > 0) return { verdict: 'deny', reasons: [...new Set(denied)] };
  return { verdict: 'allow', reasons: [...new Set<Reason>(['user-allowed', ...checks.flatMap((c) => c.reasons)])] };
}

interface Check {
  readonly verdict: 'allow' | 'deny';
  readonly reasons: readonly Reason[];
}

/** Rollout modes shared by device and trust rules: enforce, report-only, or warn until a deadline. */
function applyMode(rule: { mode: string; warnUntil?: string | undefined }, problems: Reason[], soft: { report: Reason; warn: Reason }, nowMs: number): Check {
  if (rule.mode === 'report-only') return { verdict: 'allow', reasons: [soft.report, ...problems] };
  if (rule.mode === 'warn' && rule.warnUntil !== undefined && nowMs < Date.parse(rule.warnUntil)) return { verdict: 'allow', reasons: [soft.warn, ...problems] };
  return { verdict: 'deny', reasons: problems };
}

function postureCheck(input: DecisionInput, nowMs: number): Check {
  const rule = input.route.device;
  const posture = input.posture;
  if (!rule || posture.kind === 'not-required') return { verdict: 'allow', reasons: input.route.minTrustScore ? [] : ['device-check-not-required'] };
  if (posture.kind === 'evaluated' && posture.verdict.compliant) {
    return { verdict: 'allow', reasons: ['device-compliant', ...(posture.source === 'stale' ? ['posture-stale-result' as const] : [])] };
  }
  const problems = postureProblems(posture);
  if (posture.kind === 'unavailable' && rule.onFleetError === 'allow') return { verdict: 'allow', reasons: ['fleet-error-allowed', ...problems] };
  return applyMode(rule, problems, { report: 'posture-report-only', warn: 'posture-warn' }, nowMs);
}

function trustCheck(input: DecisionInput, nowMs: number): Check {
  const rule = input.route.minTrustScore;
  const trust = input.trust;
  if (!rule || trust.kind === 'not-required') return { verdict: 'allow', reasons: [] };
  if (trust.kind === 'scored' && trust.score >= rule.min) return { verdict: 'allow', reasons: ['trust-sufficient'] };
  if (trust.kind === 'unavailable' && rule.onError === 'allow') return { verdict: 'allow', reasons: ['trust-error-allowed', 'trust-unavailable'] };
  const problems: Reason[] = [trust.kind === 'scored' ? 'trust-below-threshold' : 'trust-unavailable'];
  return applyMode(rule, problems, { report: 'trust-report-only', warn: 'trust-warn' }, nowMs);
}

/** OPA is asked only about requests the gateway would allow; it can turn them into a denial. */
export function applyOpa(decision: Decision, opa: OpaOutcome, rule: OpaRule): Decision {
  if (decision.verdict !== 'allow' || opa.kind === 'not-asked') return decision;
  if (opa.kind === 'answered') {
    return opa.answer.allow
      ? { verdict: 'allow', reasons: [...decision.reasons, 'opa-allowed'] }
      : { verdict: 'deny', reasons: ['opa-denied'], opaReasons: opa.answer.reasons };
  }
  return rule.onError === 'allow'
    ? { verdict: 'allow', reasons: [...decision.reasons, 'opa-unavailable', 'opa-error-allowed'] }
    : { verdict: 'deny', reasons: ['opa-unavailable'] };
}

export type OpaOutcome =
  | { readonly kind: 'not-asked' }
  | { readonly kind: 'answered'; readonly answer: OpaAnswer }
  | { readonly kind: 'failed'; readonly error: GatewayError };

/** The posture reasons for a device that does not (or cannot be shown to) comply. */
function postureProblems(posture: Exclude<PostureResult, { kind: 'not-required' }>): Reason[] {
  switch (posture.kind) {
    case 'no-device':
      return [posture.certificateRequired ? 'device-certificate-required' : 'device-unknown'];
    case 'not-owned':
      return ['device-not-owned'];
    case 'unavailable':
      return ['posture-unavailable'];
    case 'evaluated': {
      const reasons = new Set<Reason>(posture.verdict.hosts.flatMap((h) => h.reasons));
      return reasons.size > 0 ? [...reasons] : ['device-unknown'];
    }
  }
}

export function isUserAllowed(route: RouteConfig, user: { email: string; groups: readonly string[] }): boolean {
  if (route.allowAnyAuthenticatedUser) return true;
  const email = user.email.toLowerCase();
  if (route.allowedEmails.includes(email)) return true;
  const at = email.lastIndexOf('@');
  if (at !== -1 && route.allowedEmailDomains.includes(email.slice(at + 1))) return true;
  return user.groups.some((group) => route.allowedGroups.includes(group));
}
