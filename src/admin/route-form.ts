// The route form as the admin console shows and reads it, and the route object it writes back: fields the
// form manages are set (or left out when empty, so defaults stay defaults); every other key keeps its value.
import { parseDocument } from 'yaml';

export interface RouteForm {
  /** The route's name before this edit ('' for a new route). */
  readonly originalName: string;
  readonly name: string;
  readonly host: string;
  readonly pathPrefix: string;
  readonly upstream: string;
  /** Comma- or newline-separated lists, as typed. */
  readonly allowedGroups: string;
  readonly allowedEmailDomains: string;
  readonly allowedEmails: string;
  readonly public: string;
  readonly allowAnyAuthenticatedUser: boolean;
  readonly websockets: boolean;
  readonly preserveHost: boolean;
  readonly device: boolean;
  /** Ticked Fleet policies (ids, or names when the config names them). */
  readonly requirePolicies: readonly string[];
  /** Further policy ids or names, typed (the only way when Fleet's list is unavailable). */
  readonly requirePoliciesText: string;
  readonly requireCritical: boolean;
  readonly emptyResult: string;
  readonly emptyResultGrace: string;
  readonly maxCheckInAge: string;
  readonly maxPolicyAge: string;
  readonly mode: string;
  readonly warnUntil: string;
  readonly trust: boolean;
  readonly trustMin: string;
  readonly trustMode: string;
  readonly breakGlassAllowed: boolean;
  readonly breakGlassDurations: string;
  readonly breakGlassMaxDuration: string;
  readonly breakGlassReasonMinLength: string;
  readonly breakGlassPerDay: string;
  /** What a refused user is told instead of who is allowed in (routes[].deniedMessage). */
  readonly deniedMessage: string;
}

type Raw = Record<string, unknown>;

const TEXT_FIELDS = ['originalName', 'name', 'host', 'pathPrefix', 'upstream', 'allowedGroups', 'allowedEmailDomains', 'allowedEmails', 'public', 'requirePoliciesText',
  'emptyResult', 'emptyResultGrace', 'maxCheckInAge', 'maxPolicyAge', 'mode', 'warnUntil', 'trustMin', 'trustMode', 'breakGlassDurations', 'breakGlassMaxDuration',
  'breakGlassReasonMinLength', 'breakGlassPerDay', 'deniedMessage'] as const;
const FLAGS = ['allowAnyAuthenticatedUser', 'websockets', 'preserveHost', 'device', 'requireCritical', 'trust', 'breakGlassAllowed'] as const;

export const EMPTY_FORM: RouteForm = {
  ...(Object.fromEntries(TEXT_FIELDS.map((f) => [f, ''])) as Record<(typeof TEXT_FIELDS)[number], string>),
  ...(Object.fromEntries(FLAGS.map((f) => [f, false])) as Record<(typeof FLAGS)[number], boolean>),
  requirePolicies: [],
};

export function readRouteForm(params: URLSearchParams): RouteForm {
  const text = Object.fromEntries(TEXT_FIELDS.map((f) => [f, (params.get(f) ?? '').trim()]));
  const flags = Object.fromEntries(FLAGS.map((f) => [f, params.get(f) === 'on']));
  return { ...(text as Record<(typeof TEXT_FIELDS)[number], string>), ...(flags as Record<(typeof FLAGS)[number], boolean>), requirePolicies: params.getAll('requirePolicies') };
}

/** The form as name/value pairs, to carry it in hidden fields from the preview to the save. */
export function routeFormEntries(form: RouteForm): Array<[string, string]> {
  const entries: Array<[string, string]> = TEXT_FIELDS.map((f) => [f, form[f]]);
  for (const flag of FLAGS) if (form[flag]) entries.push([flag, 'on']);
  for (const policy of form.requirePolicies) entries.push(['requirePolicies', policy]);
  return entries;
}

/** The raw route (as written in the file, before defaults) called `name`, if there is one. */
export function rawRoute(text: string, name: string): Raw | undefined {
  const routes = (parseDocument(text).toJS() as { routes?: Raw[] } | null)?.routes;
  return routes?.find((r) => r.name === name);
}

const list = (value: unknown): string => (Array.isArray(value) ? value.map(String).join(', ') : '');
// Scalars as typed; anything else (the schema never lets one through here) as JSON, not "[object Object]".
const str = (value: unknown): string =>
  value === undefined || value === null ? '' : typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
const obj = (value: unknown): Raw | undefined => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Raw) : undefined);

export function formFromRoute(route: Raw): RouteForm {
  const device = obj(route.device);
  const trust = obj(route.minTrustScore);
  const glass = obj(route.breakGlass);
  return {
    ...EMPTY_FORM,
    originalName: str(route.name),
    name: str(route.name),
    host: str(route.host),
    pathPrefix: str(route.pathPrefix),
    upstream: str(route.upstream),
    allowedGroups: list(route.allowedGroups),
    allowedEmailDomains: list(route.allowedEmailDomains),
    allowedEmails: list(route.allowedEmails),
    public: list(route.public),
    allowAnyAuthenticatedUser: route.allowAnyAuthenticatedUser === true,
    websockets: route.websockets === true,
    preserveHost: route.preserveHost === true,
    device: device !== undefined,
    requirePolicies: Array.isArray(device?.requirePolicies) ? device.requirePolicies.map(String) : [],
    requireCritical: device?.requireCritical === true,
    emptyResult: str(device?.emptyResult),
    emptyResultGrace: str(device?.emptyResultGrace),
    maxCheckInAge: str(device?.maxCheckInAge),
    maxPolicyAge: str(device?.maxPolicyAge),
    mode: str(device?.mode),
    warnUntil: str(device?.warnUntil),
    trust: trust !== undefined,
    trustMin: str(trust?.min),
    trustMode: str(trust?.mode),
    breakGlassAllowed: glass?.allowed === true,
    breakGlassDurations: list(glass?.durations),
    breakGlassMaxDuration: str(glass?.maxDuration),
    breakGlassReasonMinLength: str(glass?.requireReasonMinLength),
    breakGlassPerDay: str(glass?.maxGrantsPerUserPerDay),
    deniedMessage: str(route.deniedMessage),
  };
}

export function splitList(value: string): string[] {
  return value
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Whole numbers become numbers (durations in seconds, counts, policy ids); the rest stays as typed for the schema to judge. */
function scalar(value: string): string | number {
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** Sets `key` to `value`, or removes it when the form left it empty (the schema's default then applies). */
function put(target: Raw, key: string, value: unknown): void {
  const empty = value === '' || value === false || (Array.isArray(value) && value.length === 0);
  if (empty) delete target[key];
  else target[key] = value;
}

/**
 * The route to write: `base` (the route as the file has it now, for an update) with the form's fields
 * applied. Keys the form does not show (timeout, opa, device.match …) are kept as they are.
 */
export function routeFromForm(form: RouteForm, base: Raw | undefined): Raw {
  const route: Raw = structuredClone(base ?? {});
  put(route, 'name', form.name);
  put(route, 'host', form.host);
  put(route, 'pathPrefix', form.pathPrefix);
  put(route, 'upstream', form.upstream);
  put(route, 'allowedGroups', splitList(form.allowedGroups));
  put(route, 'allowedEmailDomains', splitList(form.allowedEmailDomains));
  put(route, 'allowedEmails', splitList(form.allowedEmails));
  put(route, 'allowAnyAuthenticatedUser', form.allowAnyAuthenticatedUser);
  put(route, 'websockets', form.websockets);
  put(route, 'preserveHost', form.preserveHost);
  put(route, 'public', splitList(form.public));
  put(route, 'deniedMessage', form.deniedMessage);
  put(route, 'device', form.device ? deviceFromForm(form, obj(route.device) ?? {}) : '');
  put(route, 'minTrustScore', form.trust ? trustFromForm(form, obj(route.minTrustScore) ?? {}) : '');
  put(route, 'breakGlass', form.breakGlassAllowed ? breakGlassFromForm(form, obj(route.breakGlass) ?? {}) : '');
  return route;
}

function deviceFromForm(form: RouteForm, device: Raw): Raw {
  const chosen = new Set([...form.requirePolicies, ...splitList(form.requirePoliciesText)]);
  // Keep the file's order; newly chosen policies go at the end.
  const before = Array.isArray(device.requirePolicies) ? device.requirePolicies.map(String).filter((p) => chosen.has(p)) : [];
  put(device, 'requirePolicies', [...new Set([...before, ...chosen])].map(scalar));
  put(device, 'requireCritical', form.requireCritical);
  put(device, 'emptyResult', form.emptyResult);
  put(device, 'emptyResultGrace', scalar(form.emptyResultGrace));
  put(device, 'maxCheckInAge', scalar(form.maxCheckInAge));
  put(device, 'maxPolicyAge', scalar(form.maxPolicyAge));
  put(device, 'mode', form.mode);
  put(device, 'warnUntil', form.warnUntil);
  return device;
}

function trustFromForm(form: RouteForm, trust: Raw): Raw {
  put(trust, 'min', scalar(form.trustMin));
  put(trust, 'mode', form.trustMode);
  // min is required: leave it out and the schema says so beside the field.
  return trust;
}

function breakGlassFromForm(form: RouteForm, glass: Raw): Raw {
  glass.allowed = true;
  put(glass, 'durations', splitList(form.breakGlassDurations).map(scalar));
  put(glass, 'maxDuration', scalar(form.breakGlassMaxDuration));
  put(glass, 'requireReasonMinLength', scalar(form.breakGlassReasonMinLength));
  put(glass, 'maxGrantsPerUserPerDay', scalar(form.breakGlassPerDay));
  return glass;
}

/** Keys of the route the form does not show, so the page can say they are kept. */
export function keptKeys(base: Raw | undefined): string[] {
  if (!base) return [];
  const shown = new Set(['name', 'host', 'pathPrefix', 'upstream', 'allowedGroups', 'allowedEmailDomains', 'allowedEmails', 'allowAnyAuthenticatedUser', 'websockets', 'preserveHost', 'public', 'deniedMessage', 'device', 'minTrustScore', 'breakGlass']);
  const kept = Object.keys(base).filter((k) => !shown.has(k));
  const nested = (key: string, fields: string[]): string[] => Object.keys(obj(base[key]) ?? {}).filter((k) => !fields.includes(k)).map((k) => `${key}.${k}`);
  kept.push(...nested('device', ['requirePolicies', 'requireCritical', 'emptyResult', 'emptyResultGrace', 'maxCheckInAge', 'maxPolicyAge', 'mode', 'warnUntil']));
  kept.push(...nested('minTrustScore', ['min', 'mode']));
  kept.push(...nested('breakGlass', ['allowed', 'durations', 'maxDuration', 'requireReasonMinLength', 'maxGrantsPerUserPerDay']));
  return kept;
}
