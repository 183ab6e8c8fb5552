// ${NAME} belongs to the config file's author: the loader substitutes it, so text an admin puts into the
// file through the console must never contain one, or an admin could copy any environment variable (the
// session secret) into a route field and read it back, or have it sent to an upstream they choose.
// Two checks: the route form refuses "${" beside the field (unless the field still holds exactly what the
// file says there), and every console write (save, delete, rollback) is refused when the new text has a
// ${…} value the current file does not have at the same place. By induction every ${…} in a file the
// console wrote was written by the file's author.
import { parseDocument } from 'yaml';
import { formFromRoute, splitList, type RouteForm } from './route-form.ts';

const REFERENCE = '${';

export const ENV_REFERENCE_MESSAGE = 'may not contain "${": the admin console never substitutes environment variables (only the config file’s author can use them)';

type Raw = Record<string, unknown>;

const LIST_FIELDS = new Set(['allowedGroups', 'allowedEmailDomains', 'allowedEmails', 'public', 'breakGlassDurations']);
const SCALAR_FIELDS = ['name', 'host', 'pathPrefix', 'upstream', 'emptyResult', 'emptyResultGrace', 'maxCheckInAge', 'maxPolicyAge', 'mode', 'warnUntil', 'trustMin', 'trustMode',
  'breakGlassMaxDuration', 'breakGlassReasonMinLength', 'breakGlassPerDay', 'deniedMessage'] as const;

/** Form fields holding "${" the file does not already have there, with the message to show beside each. */
export function envReferenceProblems(form: RouteForm, base: Raw | undefined): { byField: Record<string, string[]>; general: string[] } {
  const before = base ? formFromRoute(base) : undefined;
  const byField: Record<string, string[]> = {};
  const refuse = (field: string): void => {
    byField[field] = [ENV_REFERENCE_MESSAGE];
  };
  for (const field of SCALAR_FIELDS) if (form[field].includes(REFERENCE) && form[field] !== before?.[field]) refuse(field);
  for (const field of LIST_FIELDS) {
    const key = field as (typeof SCALAR_FIELDS)[number];
    const kept = new Set(splitList(before?.[key] ?? ''));
    if (splitList(form[key]).some((item) => item.includes(REFERENCE) && !kept.has(item))) refuse(field);
  }
  const keptPolicies = new Set(before?.requirePolicies ?? []);
  if ([...form.requirePolicies, ...splitList(form.requirePoliciesText)].some((p) => p.includes(REFERENCE) && !keptPolicies.has(p))) refuse('requirePolicies');
  const general = form.originalName.includes(REFERENCE) ? [`the route being edited ${ENV_REFERENCE_MESSAGE}`] : [];
  return { byField, general };
}

/**
 * Where `after` has a ${…} value that `before` does not have at the same place (list items are matched as
 * a multiset, so deleting or reordering routes keeps their references): [] when the write is sound.
 */
export function newEnvReferences(before: string, after: string): string[] {
  const had = references(before);
  const added: string[] = [];
  for (const [key, count] of references(after)) {
    if (count > (had.get(key) ?? 0)) added.push(key.slice(0, key.indexOf('\u0000')));
  }
  return added;
}

/** "path\0value" → how often, for every string value containing "${" (list indices left out of paths). */
function references(text: string): Map<string, number> {
  const found = new Map<string, number>();
  const walk = (value: unknown, path: string): void => {
    if (typeof value === 'string') {
      if (value.includes(REFERENCE)) found.set(`${path}\u0000${value}`, (found.get(`${path}\u0000${value}`) ?? 0) + 1);
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item, `${path}[]`);
    } else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) walk(child, path === '' ? key : `${path}.${key}`);
    }
  };
  try {
    walk(parseDocument(text).toJS(), '');
  } catch {
    // Text that is not YAML has no values; the loader refuses it anyway.
  }
  return found;
}
