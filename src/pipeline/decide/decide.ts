// The decision: a pure function of who, what and where → allow / deny / authenticate with reasons from
// one vocabulary (used alike by logs, metrics, pages and tests). A denial is a value, not an exception.
import type { RouteConfig } from '../../config/schema.ts';
import type { UserResult } from '../identify-user/identify-user.ts';
import type { DeviceResult } from '../identify-device/identify-device.ts';
import type { PostureResult } from '../gather-posture/gather-posture.ts';

export const REASONS = [
  'public-path',
  'user-allowed',
  'user-not-allowed',
  'session-missing',
  'session-invalid',
  'session-expired',
  'session-idle',
  'session-refresh-failed',
  'device-check-not-required',
  'device-compliant',
  'device-unknown',
  'device-not-owned',
  'policy-failed',
  'policy-pending',
  'policy-missing',
  'device-stale',
  'posture-unavailable',
  'posture-stale-result',
  'posture-report-only',
  'posture-warn',
  'fleet-error-allowed',
] as const;

export type Reason = (typeof REASONS)[number];
export type Verdict = 'allow' | 'deny' | 'authenticate';

export interface Decision {
  readonly verdict: Verdict;
  readonly reasons: readonly Reason[];
}

export interface DecisionInput {
  readonly route: RouteConfig;
  readonly publicPath: boolean;
  readonly user: UserResult;
  readonly device: DeviceResult;
  readonly posture: PostureResult;
}

/** Reasons that mean "the device is the problem" (the deny page then explains the device, not the user). */
export const DEVICE_REASONS: ReadonlySet<Reason> = new Set([
  'device-unknown', 'device-not-owned', 'policy-failed', 'policy-pending', 'policy-missing', 'device-stale', 'posture-unavailable',
]);

export function decide(input: DecisionInput, nowMs: number): Decision {
  if (input.publicPath) return { verdict: 'allow', reasons: ['public-path'] };
  if (!input.user.session) return { verdict: 'authenticate', reasons: [input.user.problem] };
  if (!isUserAllowed(input.route, input.user.session)) return { verdict: 'deny', reasons: ['user-not-allowed'] };
  const rule = input.route.device;
  const posture = input.posture;
  if (!rule || posture.kind === 'not-required') return { verdict: 'allow', reasons: ['user-allowed', 'device-check-not-required'] };
  if (posture.kind === 'evaluated' && posture.verdict.compliant) {
    return { verdict: 'allow', reasons: ['user-allowed', 'device-compliant', ...(posture.source === 'stale' ? ['posture-stale-result' as const] : [])] };
  }
  const problems = postureProblems(posture);
  if (posture.kind === 'unavailable' && rule.onFleetError === 'allow') {
    return { verdict: 'allow', reasons: ['user-allowed', 'fleet-error-allowed', ...problems] };
  }
  if (rule.mode === 'report-only') return { verdict: 'allow', reasons: ['user-allowed', 'posture-report-only', ...problems] };
  if (rule.mode === 'warn' && rule.warnUntil !== undefined && nowMs < Date.parse(rule.warnUntil)) {
    return { verdict: 'allow', reasons: ['user-allowed', 'posture-warn', ...problems] };
  }
  return { verdict: 'deny', reasons: problems };
}

/** The posture reasons for a device that does not (or cannot be shown to) comply. */
function postureProblems(posture: Exclude<PostureResult, { kind: 'not-required' }>): Reason[] {
  switch (posture.kind) {
    case 'no-device':
      return ['device-unknown'];
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
