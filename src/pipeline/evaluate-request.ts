// Stages 1–4 for one request: match the route, identify the user and the device, gather posture and the
// trust score, decide (then let OPA veto, when the route asks it). The decision is a value; answering is
// left to `act` (or to the re-check form, which reuses this).
import { toGatewayError } from '../errors.ts';
import type { RequestContext } from './request-context.ts';
import { identifyUser } from './identify-user/identify-user.ts';
import { identifyDevice } from './identify-device/identify-device.ts';
import { gatherPosture } from './gather-posture/gather-posture.ts';
import { gatherTrust } from './gather-posture/gather-trust.ts';
import { applyOpa, decide, type Decision, type OpaOutcome } from './decide/decide.ts';
import { askOpa } from './decide/ask-opa.ts';
import { opaInput } from './decide/opa-input.ts';
import { applyGrant } from '../break-glass/check-grant.ts';
import { chooseRoute } from './choose-route.ts';

/** Runs the stages up to the decision for ctx.target on ctx.host (also used by the re-check form). */
export async function evaluate(ctx: RequestContext, options: { canSetCookie: boolean }): Promise<Decision> {
  const { now } = ctx.runtime;
  const { route, publicPath } = chooseRoute(ctx);
  ctx.route = route;
  const user = await identifyUser(ctx, options);
  ctx.session = user.session;
  const device = publicPath ? ({ kind: 'not-required' } as const) : await identifyDevice(ctx);
  ctx.device = device;
  const posture = await gatherPosture(ctx, device);
  ctx.posture = posture;
  const trust = await gatherTrust(ctx, device, posture);
  ctx.trust = trust;
  const local = await applyGrant(ctx, decide({ route, publicPath, user, device, posture, trust }, now()));
  const decision = route.opa && local.verdict === 'allow' && !publicPath ? applyOpa(local, await consultOpa(ctx, local), route.opa) : local;
  ctx.decision = decision;
  return decision;
}

async function consultOpa(ctx: RequestContext, local: Decision): Promise<OpaOutcome> {
  const rule = ctx.route?.opa;
  if (!rule) return { kind: 'not-asked' };
  try {
    return { kind: 'answered', answer: await askOpa(rule, opaInput(ctx, local)) };
  } catch (error) {
    const failure = toGatewayError(error);
    ctx.runtime.log.warn({ requestId: ctx.id, code: failure.code, details: failure.details }, 'OPA unavailable');
    return { kind: 'failed', error: failure };
  }
}
