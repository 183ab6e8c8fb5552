// One route in words for the admin list: where it answers, where it forwards, who may enter, and what it
// asks of devices, trust and emergency access (durations in the units people write them in).
import type { RouteConfig } from '../config/schema.ts';

export interface RouteSummary {
  readonly name: string;
  readonly where: string;
  readonly upstream: string;
  readonly who: readonly string[];
  readonly device: string;
  readonly trust: string;
  readonly breakGlass: string;
}

/** A duration in its largest whole unit; one the file writes as ${NAME} is shown as written. */
export function formatDuration(ms: number | string): string {
  if (typeof ms === 'string') return ms;
  const units: Array<[number, string]> = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1_000, 's']];
  for (const [size, unit] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

function describeDevice(route: RouteConfig): string {
  const rule = route.device;
  if (!rule) return 'not checked';
  const parts: string[] = [];
  if (rule.requirePolicies.length > 0) parts.push(`policies ${rule.requirePolicies.map((p) => (typeof p === 'number' ? `#${p}` : `“${p}”`)).join(', ')}`);
  if (rule.requireCritical) parts.push('all critical policies');
  if (parts.length === 0) parts.push('every policy Fleet reports');
  if (rule.maxCheckInAge !== undefined) parts.push(`checked in within ${formatDuration(rule.maxCheckInAge)}`);
  if (rule.maxPolicyAge !== undefined) parts.push(`results younger than ${formatDuration(rule.maxPolicyAge)}`);
  if (rule.emptyResult !== 'fail') parts.push(`no result yet: ${rule.emptyResult}${rule.emptyResult === 'grace' ? ` ${formatDuration(rule.emptyResultGrace)}` : ''}`);
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
      ? `allowed, up to ${formatDuration(glass.maxDuration)}, ${glass.maxGrantsPerUserPerDay}/day, reason ≥ ${glass.requireReasonMinLength} chars`
      : '—',
  };
}
