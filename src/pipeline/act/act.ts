// The last stage and the only one that answers: one place maps a decision to a forward, a sign-in
// redirect, or a denial page (Pomerium keeps evaluation and responding apart the same way).
import type { Duplex } from 'node:stream';
import { GatewayError } from '../../errors.ts';
import { redirect, sendError, sendPage, wantsJson } from '../../http/respond.ts';
import type { RequestContext } from '../request-context.ts';
import { requireOwnOrigin } from '../served-origins.ts';
import { isTopLevelNavigation } from '../../http/fetch-metadata.ts';
import { loginCookieName, startLogin } from '../identify-user/login-flow.ts';
import type { Decision } from '../decide/decide.ts';
import { isDeviceReason } from '../../config/reasons.ts';
import { rewriteHeaders } from './forward-headers.ts';
import { peerAddress } from '../../http/client-address.ts';
import { sendDeviceDenied } from './device-denied.ts';
import { needsWarning, sendDeviceWarning } from './device-warning.ts';

/** What a refused user reads when the route sets no deniedMessage: whom to ask, not who is allowed. */
export const DEFAULT_DENIED_MESSAGE = "This application is open only to the people its owners chose. If you need access, ask the application's owner or your IT team to add you.";

export async function act(ctx: RequestContext, decision: Decision): Promise<void> {
  switch (decision.verdict) {
    case 'allow':
      if (needsWarning(ctx, decision)) return sendDeviceWarning(ctx);
      return forward(ctx);
    case 'authenticate':
      return askToSignIn(ctx, decision);
    case 'deny':
      return denyPage(ctx, decision);
  }
}

function forward(ctx: RequestContext): void {
  const forwarder = ctx.runtime.forwarders.get(ctx.route?.name ?? '');
  if (!forwarder || !ctx.target || !ctx.res) throw new GatewayError('TG_ERR_INTERNAL', 'no forwarder for the matched route');
  prepareForward(ctx);
  if (ctx.setCookies.length > 0) appendSetCookies(ctx);
  forwarder.web(ctx, (failed, error) => sendError(failed, error, [{ label: 'Try again', href: failed.target?.forwardTarget ?? '/' }]));
}

/** Sets the exact path that was decided on, and the headers the upstream may trust. */
function prepareForward(ctx: RequestContext): void {
  const { req, runtime } = ctx;
  ctx.req.url = ctx.target?.forwardTarget ?? '/';
  const inboundFor = req.headers['x-forwarded-for'];
  rewriteHeaders(req.headers, {
    requestId: ctx.id,
    peerAddress: peerAddress(req),
    protocol: ctx.protocol,
    host: ctx.host,
    trustedForwardedFor: ctx.fromTrustedProxy ? (Array.isArray(inboundFor) ? inboundFor.join(', ') : inboundFor) : undefined,
    session: ctx.session,
    device: deviceFacts(ctx),
    grant: ctx.grant,
    ownCookies: [runtime.sessions.name, loginCookieName(ctx)],
    filter: runtime.headerFilter,
  });
}

export function forwardUpgrade(ctx: RequestContext, socket: Duplex, head: Buffer): void {
  const forwarder = ctx.runtime.forwarders.get(ctx.route?.name ?? '');
  if (!forwarder) throw new GatewayError('TG_ERR_INTERNAL', 'no forwarder for the matched route');
  prepareForward(ctx);
  forwarder.ws(ctx, socket, head);
}

/** Session cookies refreshed on this request ride on the upstream's response. */
function appendSetCookies(ctx: RequestContext): void {
  const res = ctx.res;
  if (!res) return;
  const original = res.writeHead.bind(res);
  res.writeHead = ((...args: Parameters<typeof res.writeHead>) => {
    const existing = res.getHeader('set-cookie');
    const upstream = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
    res.setHeader('set-cookie', [...upstream, ...ctx.setCookies]);
    return original(...args);
  }) as typeof res.writeHead;
}

/** Only a top-level page navigation is sent to sign in; sub-resources, XHR and non-GETs get 401. */
async function askToSignIn(ctx: RequestContext, decision: Decision): Promise<void> {
  if (!isTopLevelNavigation(ctx.req) || wantsJson(ctx.req.headers.accept)) {
    throw new GatewayError('TG_ERR_UNAUTHENTICATED', 'Sign in through the gateway first.', { details: { reasons: decision.reasons } });
  }
  redirect(ctx, await startLogin(ctx, `${requireOwnOrigin(ctx)}${ctx.target?.forwardTarget ?? '/'}`));
}

/** What the upstream learns about the device: its Fleet identity and how the posture check went. */
function deviceFacts(ctx: RequestContext): { id: string; posture: string } | undefined {
  const posture = ctx.posture;
  if (!posture || posture.kind === 'not-required') return undefined;
  const reasons = ctx.decision?.reasons ?? [];
  const state = reasons.includes('break-glass-active')
    ? 'break-glass'
    : reasons.includes('device-compliant')
      ? 'compliant'
      : reasons.includes('posture-warn')
        ? 'warn'
        : reasons.includes('posture-report-only')
          ? 'report-only'
          : 'unverified';
  const ids = posture.kind === 'evaluated' ? posture.verdict.hosts.map((h) => h.host.uuid).join(',') : '';
  return { id: ids, posture: state };
}

function denyPage(ctx: RequestContext, decision: Decision): void {
  if (decision.reasons.some(isDeviceReason)) {
    sendDeviceDenied(ctx, decision);
    return;
  }
  if (decision.reasons.includes('opa-unavailable')) {
    sendError(ctx, new GatewayError('TG_ERR_OPA_UNAVAILABLE', 'The access policy cannot be checked right now, so access is paused for safety. Try again in a minute.', { details: { reasons: decision.reasons } }));
    return;
  }
  if (decision.reasons.includes('opa-denied')) {
    sendError(ctx, new GatewayError('TG_ERR_FORBIDDEN', "Your organisation's access policy does not allow this request.", { details: { reasons: decision.reasons } }));
    return;
  }
  // Who is allowed in is never shown to the person who was refused: only the route's deniedMessage.
  const route = ctx.route;
  const message = route?.deniedMessage ?? DEFAULT_DENIED_MESSAGE;
  if (!route || !ctx.session || wantsJson(ctx.req.headers.accept)) {
    sendError(ctx, new GatewayError('TG_ERR_FORBIDDEN', `You do not have access to this application. ${message}`, { details: { reasons: decision.reasons } }));
    return;
  }
  sendPage(ctx, 403, 'access-denied', { routeName: route.name, message, helpUrl: ctx.runtime.config.fleet?.helpUrl ?? null, reasons: decision.reasons });
}
