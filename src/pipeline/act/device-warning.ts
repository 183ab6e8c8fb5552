// Rollout mode "warn": a non-compliant device still gets in until the route's deadline, but a page
// first tells the user what to fix and by when. "Continue" acknowledges it for an hour (a cookie bound
// to the session and the route), so the notice does not stand in front of every page.
import { stringifySetCookie, parseCookie } from 'cookie';
import { sendPage, wantsJson } from '../../http/respond.ts';
import { formatPlainText } from '../../http/format-text.ts';
import { requestOrigin, type RequestContext } from '../request-context.ts';
import type { Decision } from '../decide/decide.ts';

const ACK_TTL_S = 3600;
const TRUST_ADVICE = 'Your device shows a lower trust level than this application will require. Use your usual company device and browser, keep it up to date, and make sure Fleet Desktop is running.';

export function ackCookieName(ctx: RequestContext, routeName: string): string {
  return `${ctx.runtime.sessions.name}_ack_${routeName}`;
}

export function needsWarning(ctx: RequestContext, decision: Decision): boolean {
  if (!decision.reasons.some((r) => r === 'posture-warn' || r === 'trust-warn') || !ctx.session || !ctx.route) return false;
  if (ctx.req.method !== 'GET' || wantsJson(ctx.req.headers.accept)) return false;
  const cookie = parseCookie(ctx.req.headers.cookie ?? '')[ackCookieName(ctx, ctx.route.name)];
  return !ctx.runtime.csrf.matches(ctx.session, cookie, `ack:${ctx.route.name}`);
}

export function sendDeviceWarning(ctx: RequestContext): void {
  const route = ctx.route;
  const session = ctx.session;
  if (!route || !session) return;
  const posture = ctx.posture;
  const reasons = ctx.decision?.reasons ?? [];
  const postureWarn = reasons.includes('posture-warn');
  const trustWarn = reasons.includes('trust-warn');
  const findings = posture?.kind === 'evaluated' ? posture.verdict.hosts.flatMap((h) => h.findings) : [];
  const postureItems = findings.length > 0 ? findings.map((f) => ({ name: f.name, resolutionHtml: f.resolution ? formatPlainText(f.resolution) : '' })) : [{ name: 'Your device could not be verified', resolutionHtml: '' }];
  // Like the deny page, the trust item says what generally helps, never the scoring details.
  const trustItem = { name: 'Device trust check', resolutionHtml: formatPlainText(TRUST_ADVICE) };
  const items = [...(postureWarn ? postureItems : []), ...(trustWarn ? [trustItem] : [])];
  const deadlines = [postureWarn ? route.device?.warnUntil : undefined, trustWarn ? route.minTrustScore?.warnUntil : undefined].flatMap((d) => (d ? [Date.parse(d)] : []));
  sendPage(ctx, 200, 'device-warning', {
    routeName: route.name,
    deadline: deadlines.length > 0 ? new Date(Math.min(...deadlines)).toUTCString() : 'soon',
    items,
    returnTo: `${requestOrigin(ctx)}${ctx.target?.forwardTarget ?? '/'}`,
    csrf: ctx.runtime.csrf.token(session),
  });
}

/** Sets the acknowledgement cookie for a route (after the CSRF check of the Continue form). */
export function acknowledgeWarning(ctx: RequestContext, routeName: string): void {
  const session = ctx.session;
  if (!session) return;
  const value = ctx.runtime.csrf.token(session, `ack:${routeName}`);
  ctx.setCookies.push(
    stringifySetCookie(ackCookieName(ctx, routeName), value, {
      httpOnly: true,
      secure: ctx.listener.secureCookies,
      sameSite: 'lax',
      path: '/',
      maxAge: ACK_TTL_S,
      domain: ctx.runtime.config.session.cookieDomain,
    }),
  );
}
