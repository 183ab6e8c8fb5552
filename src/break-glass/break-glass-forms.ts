// The emergency-access form: a blocked user states a reason and picks a duration; the gateway checks
// it (route allows it, failure is coverable, reason long enough, duration offered, acknowledgement,
// daily limit), grants it for user + device + route, and audits every step. Bad input comes back with
// messages beside the fields and the user's text kept.
import { GatewayError } from '../errors.ts';
import type { RequestContext } from '../pipeline/request-context.ts';
import { evaluateRequest, recordEvaluation, type Evaluation } from '../pipeline/evaluate-request.ts';
import { identifyUserFor } from '../pipeline/identify-user/identify-user.ts';
import type { Reason } from '../config/reasons.ts';
import { deviceKeyOf } from './check-grant.ts';
import { isCoverable } from './is-coverable.ts';
import type { AuditEventInput } from './audit-event.ts';
import { formatDuration } from '../config/format-duration.ts';
import { acceptForm } from '../pipeline/accept-form.ts';
import { normalizeTarget } from '../http/normalize-path.ts';
import { redirect, sendPage } from '../http/respond.ts';
import { safeReturnUrl } from '../pipeline/identify-user/return-url.ts';
import { servedOrigins } from '../pipeline/served-origins.ts';
import type { Endpoints } from '../pipeline/internal-endpoints.ts';

/** The emergency-access form, mounted by the gateway under /.trustgate/ on route hosts. */
export const breakGlassEndpoints: Endpoints = {
  'break-glass': { methods: ['GET', 'POST'], handle: (ctx) => (ctx.req.method === 'POST' ? requestBreakGlass(ctx) : showBreakGlassForm(ctx)) },
};

const MAX_REASON_LENGTH = 2000;

interface FormState {
  returnTo: string;
  reason: string;
  duration: string;
  acknowledged: boolean;
  errors: Record<string, string>;
}

/** GET: show the form for the page the user was denied. */
export async function showBreakGlassForm(ctx: RequestContext): Promise<void> {
  const user = await identifyUserFor(ctx, { canSetCookie: true });
  const requested = new URLSearchParams(ctx.target?.query ?? '').get('return');
  const origins = servedOrigins(ctx);
  const returnTo = safeReturnUrl(requested, origins);
  if (!returnTo || new URL(returnTo).origin !== origins.own) throw new GatewayError('TG_ERR_BAD_REQUEST', 'The form does not say which page you need.');
  if (!user.session) return redirect(ctx, `/.trustgate/login?rd=${encodeURIComponent(`/.trustgate/break-glass?return=${encodeURIComponent(returnTo)}`)}`);
  const url = new URL(returnTo);
  ctx.target = normalizeTarget(`${url.pathname}${url.search}`);
  const evaluation = await evaluateRequest(ctx, { canSetCookie: true });
  recordEvaluation(ctx, evaluation);
  const { decision } = evaluation;
  if (decision.verdict !== 'deny') return redirect(ctx, returnTo);
  // Same refusal as the POST (which also audits it); without it a route with no breakGlass got no answer.
  if (!ctx.runtime.breakGlass || !isCoverable(decision, evaluation.route.breakGlass)) {
    throw new GatewayError('TG_ERR_FORBIDDEN', 'Emergency access cannot cover this problem. Contact your IT team.', { details: { reasons: decision.reasons } });
  }
  renderForm(ctx, evaluation, { returnTo, reason: '', duration: '', acknowledged: false, errors: {} }, 200);
}

/** POST: validate, rate-limit, grant, audit. */
export async function requestBreakGlass(ctx: RequestContext): Promise<void> {
  const { returnTo, form } = await acceptForm(ctx);
  const evaluation = await evaluateRequest(ctx, { canSetCookie: true });
  recordEvaluation(ctx, evaluation);
  const { decision, route, session } = evaluation;
  if (decision.verdict !== 'deny') return redirect(ctx, returnTo);
  const rule = route.breakGlass;
  const service = ctx.runtime.breakGlass;
  if (!rule || !service || !session) throw new GatewayError('TG_ERR_FORBIDDEN', 'Emergency access is not available for this application.');
  const state: FormState = { returnTo, reason: (form.get('reason') ?? '').trim(), duration: form.get('duration') ?? '', acknowledged: form.get('acknowledge') === 'yes', errors: {} };
  const base = { user: session.email, device: deviceKeyOf(evaluation.device, session.email), route: rule.group ?? route.name, requestId: ctx.id, sourceAddress: ctx.clientAddress };
  const notify = { notify: rule.notify };

  if (!isCoverable(decision, rule)) {
    await service.audit({ ...base, event: 'break-glass.denied', reason: state.reason, detail: `not allowed for: ${decision.reasons.join(', ')}` }, notify);
    throw new GatewayError('TG_ERR_FORBIDDEN', 'Emergency access cannot cover this problem. Contact your IT team.', { details: { reasons: decision.reasons } });
  }
  validate(state, rule.requireReasonMinLength, rule.durations);
  if (Object.keys(state.errors).length > 0) return renderForm(ctx, evaluation, state, 400);

  const durationMs = Number(state.duration);
  await service.audit({ ...base, event: 'break-glass.requested', reason: state.reason, durationMs }, notify);
  if ((await service.grantsToday(session.email)) >= rule.maxGrantsPerUserPerDay) {
    await service.audit({ ...base, event: 'break-glass.denied', reason: state.reason, durationMs, detail: 'rate limit' }, notify);
    state.errors.form = `You have reached the limit of ${rule.maxGrantsPerUserPerDay} emergency access grants in 24 hours. Contact your IT team.`;
    return renderForm(ctx, evaluation, state, 429);
  }
  const grant = await service.grant({ ...base, sub: session.sub, deviceKey: base.device, reason: state.reason, durationMs });
  const granted: AuditEventInput = { ...base, event: 'break-glass.granted', reason: state.reason, durationMs, grantId: grant.id };
  await service.audit(granted, notify);
  sendPage(ctx, 200, 'break-glass-granted', { title: 'Emergency access granted', returnTo, until: new Date(grant.expiresAtMs).toUTCString(), grantId: grant.id });
}

function validate(state: FormState, minLength: number, durations: readonly number[]): void {
  if (state.reason.length < minLength) state.errors.reason = `Please explain the emergency in at least ${minLength} characters.`;
  if (state.reason.length > MAX_REASON_LENGTH) state.errors.reason = `Please keep the reason under ${MAX_REASON_LENGTH} characters.`;
  if (!durations.map(String).includes(state.duration)) state.errors.duration = 'Choose one of the offered durations.';
  if (!state.acknowledged) state.errors.acknowledge = 'Please confirm that you understand this access is recorded.';
}

function renderForm(ctx: RequestContext, evaluation: Evaluation, state: FormState, status: number): void {
  const { route, session, posture, decision } = evaluation;
  const rule = route.breakGlass;
  if (!rule || !session) return;
  const findings = posture.kind === 'evaluated' ? posture.verdict.hosts.flatMap((h) => h.findings.map((f) => f.name)) : [];
  sendPage(ctx, status, 'break-glass', {
    title: 'Request emergency access',
    routeName: route.name,
    problems: findings.length > 0 ? findings : decision.reasons.map(describeReason),
    durations: rule.durations.map((ms) => ({ value: String(ms), label: formatDuration(ms) })),
    minLength: rule.requireReasonMinLength,
    csrf: ctx.runtime.csrf.token(session),
    ...state,
  });
}

function describeReason(reason: Reason): string {
  const text: Partial<Record<Reason, string>> = {
    'device-not-owned': 'This device is not registered to you',
    'device-stale': 'Fleet has not heard from your device recently',
    'posture-unavailable': 'The device check is unavailable',
    'trust-below-threshold': 'Your device did not pass the trust check',
    'trust-unavailable': 'The device trust check is unavailable',
    'device-unknown': 'Your device could not be identified',
    'device-certificate-required': "This application needs your company device's certificate",
  };
  return text[reason] ?? reason;
}
