// Stages 1–4 for one request: match the route, identify the user and the device, gather posture and the
// trust score, look up a break-glass grant a denial may need, decide (then let OPA veto, when the route
// asks it). The result is a value — the decision and the facts behind it; nothing is written into the
// request context. Answering is left to `act` (or to the forms that reuse this).
import { toGatewayError } from '../errors.ts';
import type { RouteConfig } from '../config/schema.ts';
import type { RequestContext } from './request-context.ts';
import { identifyUser } from './identify-user/identify-user.ts';
import type { Session } from './identify-user/session-cookie.ts';
import { identifyDevice, type DeviceResult } from './identify-device/identify-device.ts';
import { gatherPosture, type PostureResult } from './gather-posture/gather-posture.ts';
import { gatherTrust, type TrustResult } from './gather-posture/gather-trust.ts';
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
}

/** Runs the stages up to the decision for ctx.target on ctx.host (also used by the device and break-glass forms). */
export async function evaluate(ctx: RequestContext, options: { canSetCookie: boolean }): Promise<Evaluation> {
  const { now, breakGlass } = ctx.runtime;
  const { route, publicPath } = chooseRoute(ctx);
  const user = await identifyUser(ctx, options);
  const session = user.session;
  const device = publicPath ? ({ kind: 'not-required' } as const) : await identifyDevice(ctx, { route, session });
  const posture = await gatherPosture(ctx, { route, session, device });
  const trust = await gatherTrust(ctx, { route, session, device, posture });
  const facts: DecisionInput = { route, publicPath, user, device, posture, trust };
  const grant = await findGrant(breakGlass, { route, session, device }, decide(facts, now()));
  const local = decide({ ...facts, grant }, now());
  const usedGrant = grant && local.reasons.includes('break-glass-active') ? grant : undefined;
  if (usedGrant && breakGlass) await auditFirstUse(breakGlass, usedGrant, route, ctx);
  const decision = route.opa && local.verdict === 'allow' && !publicPath ? applyOpa(local, await consultOpa(ctx, { route, session, device, posture, trust }, local), route.opa) : local;
  return { route, publicPath, session, device, posture, trust, grant: usedGrant, decision };
}

/** Keeps an evaluation on the request for `act`, the pages and the decision log. */
export function recordEvaluation(ctx: RequestContext, evaluation: Evaluation): void {
  ctx.route = evaluation.route;
  ctx.session = evaluation.session;
  ctx.device = evaluation.device;
  ctx.posture = evaluation.posture;
  ctx.trust = evaluation.trust;
  ctx.grant = evaluation.grant;
  ctx.decision = evaluation.decision;
}

async function consultOpa(ctx: RequestContext, facts: Parameters<typeof opaInput>[1], local: Decision): Promise<OpaOutcome> {
  const rule = facts.route.opa;
  if (!rule) return { kind: 'not-asked' };
  try {
    return { kind: 'answered', answer: await askOpa(rule, opaInput(ctx, facts, local)) };
  } catch (error) {
    const failure = toGatewayError(error);
    ctx.runtime.log.warn({ requestId: ctx.id, code: failure.code, details: failure.details }, 'OPA unavailable');
    return { kind: 'failed', error: failure };
  }
}
