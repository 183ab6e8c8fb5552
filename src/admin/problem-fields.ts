// Places the loader's problems (paths such as "routes[3].device.warnUntil") beside the route form's
// fields, so the admin sees each message where the mistake is; the rest are shown above the form.
import type { ConfigProblem } from '../config/config-problem.ts';

/** Route keys whose form field has another name. */
const RENAMED: Record<string, string> = {
  minTrustScore: 'trust',
  'minTrustScore.min': 'trustMin',
  'minTrustScore.mode': 'trustMode',
  breakGlass: 'breakGlassAllowed',
  'breakGlass.durations': 'breakGlassDurations',
  'breakGlass.maxDuration': 'breakGlassMaxDuration',
  'breakGlass.requireReasonMinLength': 'breakGlassReasonMinLength',
  'breakGlass.maxGrantsPerUserPerDay': 'breakGlassPerDay',
};

const FIELDS = new Set(['name', 'host', 'pathPrefix', 'upstream', 'allowedGroups', 'allowedEmailDomains', 'allowedEmails', 'allowAnyAuthenticatedUser', 'websockets', 'preserveHost', 'public', 'deniedMessage', 'device']);
const DEVICE_FIELDS = new Set(['requirePolicies', 'requireCritical', 'emptyResult', 'emptyResultGrace', 'maxCheckInAge', 'maxPolicyAge', 'mode', 'warnUntil']);

export interface PlacedProblems {
  /** Messages by form field. */
  readonly byField: Record<string, string[]>;
  /** Problems elsewhere in the file, or in keys the form does not show. */
  readonly general: string[];
}

/** The form field a problem at `path` belongs to, when it is inside route number `index`. */
export function fieldOfPath(path: string, index: number): string | undefined {
  const prefix = `routes[${index}]`;
  if (!path.startsWith(prefix)) return undefined;
  // "routes[3].allowedEmails[1]" → "allowedEmails"; "routes[3].breakGlass.durations[0]" → "breakGlass.durations".
  const rest = path.slice(prefix.length).replace(/^\./, '').replace(/\[\d+\].*$/, '');
  if (rest === '') return undefined;
  if (RENAMED[rest]) return RENAMED[rest];
  const [top, sub] = rest.split('.');
  if (top === 'device' && sub && DEVICE_FIELDS.has(sub)) return sub;
  if (top && RENAMED[top]) return RENAMED[top];
  return top && FIELDS.has(top) ? top : undefined;
}

export function placeProblems(problems: readonly ConfigProblem[], index: number): PlacedProblems {
  const byField: Record<string, string[]> = {};
  const general: string[] = [];
  for (const problem of problems) {
    const field = fieldOfPath(problem.path, index);
    if (field) (byField[field] ??= []).push(problem.message);
    else general.push(`${problem.path}: ${problem.message}`);
  }
  return { byField, general };
}
