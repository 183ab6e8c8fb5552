// Stages 1–4 for one request: match the route, identify the user and the device, gather posture and the
// trust score, look up a break-glass grant a denial may need, decide (then let OPA veto, when the route
// asks it). It takes the request's facts and narrow deps and returns a value — the decision and the facts
// behind it; it needs no proxy, no response and no request context. Answering is left to `act`.
import { GatewayError, toGatewayError } from '../errors.ts';
import type { RouteConfig } from '../config/schema.ts';
import type { RequestContext, Runtime } from './request-context.ts';
import type { RequestFacts } from './request-facts.ts';
import type { NormalizedTarget } from '../http/normalize-path.ts';
import { identifyUser, type UserDeps } from './identify-user/identify-user.ts';
import type { Session } from './identify-user/session-cookie.ts';
import { identifyDevice, type DeviceDeps, type DeviceResult } from './identify-device/identify-device.ts';
import { gatherPosture, type PostureDeps, type PostureResult } from './gather-posture/gather-posture.ts';
import { gatherTrust, type TrustDeps, type TrustResult } from './gather-posture/gather-trust.ts';
import { applyOpa, decide, type Decision, type DecisionInput, type OpaOutcome } from './decide/decide.ts';
import { askOpa } from './decide/ask-opa.ts';
import { opaInput } from './decide/opa-input.ts';
import { auditFirstUse, findGrant } from '../break-glass/check-grant.ts';
import type { Grant } from '../break-glass/grant.ts';
import { chooseRoute } from './choose-route.ts';

/** The decision and the facts the act stage and the decision log need. */
export interface Evaluation {
  readonly route: RouteConfig;
  readonly publicPath: boolean;
  readonly session: Session | undefined;
  readonly device: DeviceResult;
  readonly posture: PostureResult;
  readonly trust: TrustResult;
  /** The break-glass grant the request is let through under. */
  readonly grant: Grant | undefined;
  readonly decision: Decision;
  /** Set-Cookie headers for the response (a refreshed, re-sealed or ended session). */
  readonly setCookies: readonly string[];
}

/** What the stages up to the decision need from the gateway (built from one config version). */
export type EvaluateDeps = UserDeps & DeviceDeps & PostureDeps & TrustDeps & Pick<Runtime, 'routes' | 'breakGlass'>;

/**
 * Runs the stages up to the decision for `request` (a proxied request, a form's return page, or a
 * decision API's question). Set-Cookie headers (a refreshed or ended session) come back with the result.
 */
export async function evaluate(request: RequestFacts, deps: EvaluateDeps, options: { canSetCookie: boolean }): Promise<Evaluation> {
  const { now, breakGlass } = deps;
  const { route, publicPath } = chooseRoute(deps.routes, request.host, request.target.path);
  const { setCookie, ...user } = await identifyUser(request, deps, options);
  const session = user.session;
  const device = publicPath ? ({ kind: 'not-required' } as const) : await identifyDevice(request, deps, { route, session });
  const posture = await gatherPosture(request.id, deps, { route, session, device });
  const trust = await gatherTrust(request, deps, { route, session, device, posture });
  const facts: DecisionInput = { route, publicPath, user, device, posture, trust };
  const grant = await findGrant(breakGlass, { route, session, device }, decide(facts, now()));
  const local = decide({ ...facts, grant }, now());
  const usedGrant = grant && local.reasons.includes('break-glass-active') ? grant : undefined;
  if (usedGrant && breakGlass) await auditFirstUse(breakGlass, usedGrant, route, request);
  const decision = route.opa && local.verdict === 'allow' && !publicPath ? applyOpa(local, await consultOpa(request, deps, { route, session, device, posture, trust }, local), route.opa) : local;
  return { route, publicPath, session, device, posture, trust, grant: usedGrant, decision, setCookies: setCookie === undefined ? [] : [setCookie] };
}

/** Evaluates a proxied request for `target` (default: its own). */
export function evaluateRequest(ctx: RequestContext, options: { canSetCookie: boolean }, target = ctx.target): Promise<Evaluation> {
  if (!target) throw new GatewayError('TG_ERR_INTERNAL', 'no request target to evaluate');
  return evaluate(requestFactsOf(ctx, target), ctx.runtime, options);
}

/** Keeps an evaluation on the request for `act`, the pages and the decision log; its cookies go on the response. */
export function recordEvaluation(ctx: RequestContext, evaluation: Evaluation): void {
  ctx.setCookies.push(...evaluation.setCookies);
  ctx.route = evaluation.route;
  ctx.session = evaluation.session;
  ctx.device = evaluation.device;
  ctx.posture = evaluation.posture;
  ctx.trust = evaluation.trust;
  ctx.grant = evaluation.grant;
  ctx.decision = evaluation.decision;
}

async function consultOpa(request: RequestFacts, deps: Pick<Runtime, 'log'>, facts: Parameters<typeof opaInput>[1], local: Decision): Promise<OpaOutcome> {
  const rule = facts.route.opa;
  if (!rule) return { kind: 'not-asked' };
  try {
    return { kind: 'answered', answer: await askOpa(rule, opaInput(request, facts, local)) };
  } catch (error) {
    const failure = toGatewayError(error);
    deps.log.warn({ requestId: request.id, code: failure.code, details: failure.details }, 'OPA unavailable');
    return { kind: 'failed', error: failure };
  }
}

/** The facts of a proxied request, for `target` (the request's own, or a form's return page). */
export function requestFactsOf(ctx: RequestContext, target: NormalizedTarget): RequestFacts {
  return {
    id: ctx.id,
    method: ctx.req.method ?? 'GET',
    host: ctx.host,
    target,
    clientAddress: ctx.clientAddress,
    fromTrustedProxy: ctx.fromTrustedProxy,
    protocol: ctx.protocol,
    headers: ctx.req.headers,
    connection: ctx.req.socket,
    secureCookies: ctx.listener.secureCookies,
  };
}
