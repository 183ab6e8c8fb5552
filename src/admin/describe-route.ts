// One route in words for the admin list: where it answers, where it forwards, who may enter, and what it
// asks of devices, trust and emergency access (durations in the units people write them in).
import type { RouteConfig } from '../config/schema.ts';
import { formatDuration } from '../config/format-duration.ts';

/** A duration in its largest whole unit; one the file writes as ${NAME} is shown as written. */
function shownDuration(ms: number | string): string {
  return typeof ms === 'string' ? ms : formatDuration(ms);
}

export interface RouteSummary {
  readonly name: string;
  readonly where: string;
  readonly upstream: string;
  readonly who: readonly string[];
  readonly device: string;
  readonly trust: string;
  readonly breakGlass: string;
}

function describeDevice(route: RouteConfig): string {
  const rule = route.device;
  if (!rule) return 'not checked';
  const parts: string[] = [];
  if (rule.requirePolicies.length > 0) parts.push(`policies ${rule.requirePolicies.map((p) => (typeof p === 'number' ? `#${p}` : `“${p}”`)).join(', ')}`);
  if (rule.requireCritical) parts.push('all critical policies');
  if (parts.length === 0) parts.push('every policy Fleet reports');
  if (rule.maxCheckInAge !== undefined) parts.push(`checked in within ${shownDuration(rule.maxCheckInAge)}`);
  if (rule.maxPolicyAge !== undefined) parts.push(`results younger than ${shownDuration(rule.maxPolicyAge)}`);
  if (rule.emptyResult !== 'fail') parts.push(`no result yet: ${rule.emptyResult}${rule.emptyResult === 'grace' ? ` ${shownDuration(rule.emptyResultGrace)}` : ''}`);
  if (rule.mode !== 'enforce') parts.push(`mode ${rule.mode}${rule.warnUntil ? ` until ${rule.warnUntil}` : ''}`);
  return parts.join('; ');
}

export function describeRoute(route: RouteConfig): RouteSummary {
  const who = route.allowAnyAuthenticatedUser
    ? ['any signed-in user']
    : [
        ...route.allowedGroups.map((g) => `group ${g}`),
        ...route.allowedEmailDomains.map((d) => `@${d}`),
        ...route.allowedEmails,
      ];
  const trust = route.minTrustScore;
  const glass = route.breakGlass;
  return {
    name: route.name,
    where: `${route.host}${route.pathPrefix}`,
    upstream: route.upstream,
    who,
    device: describeDevice(route),
    trust: trust ? `at least ${trust.min}${trust.mode !== 'enforce' ? ` (${trust.mode})` : ''}` : '—',
    breakGlass: glass?.allowed
      ? `allowed, up to ${shownDuration(glass.maxDuration)}, ${glass.maxGrantsPerUserPerDay}/day, reason ≥ ${glass.requireReasonMinLength} chars`
      : '—',
  };
}
