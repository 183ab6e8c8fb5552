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

export function decide(input: DecisionInput, _nowMs: number): Decision {
  if (input.publicPath) return { verdict: 'allow', reasons: ['public-path'] };
  if (!input.user.session) return { verdict: 'authenticate', reasons: [input.user.problem] };
  if (!isUserAllowed(input.route, input.user.session)) return { verdict: 'deny', reasons: ['user-not-allowed'] };
  const reasons: Reason[] = ['user-allowed'];
  if (input.device.kind === 'not-required' && input.posture.kind === 'not-required') reasons.push('device-check-not-required');
  return { verdict: 'allow', reasons };
}

export function isUserAllowed(route: RouteConfig, user: { email: string; groups: readonly string[] }): boolean {
  if (route.allowAnyAuthenticatedUser) return true;
  const email = user.email.toLowerCase();
  if (route.allowedEmails.includes(email)) return true;
  const at = email.lastIndexOf('@');
  if (at !== -1 && route.allowedEmailDomains.includes(email.slice(at + 1))) return true;
  return user.groups.some((group) => route.allowedGroups.includes(group));
}
