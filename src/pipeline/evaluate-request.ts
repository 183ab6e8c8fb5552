// Stages 1–4 for one request: match the route, identify the user and the device, gather posture, decide.
// The decision is a value; answering is left to `act` (or to the re-check form, which reuses this).
import { GatewayError } from '../errors.ts';
import type { RequestContext } from './request-context.ts';
import { identifyUser } from './identify-user/identify-user.ts';
import { identifyDevice } from './identify-device/identify-device.ts';
import { gatherPosture } from './gather-posture/gather-posture.ts';
import { decide, type Decision } from './decide/decide.ts';

/** Runs the stages up to the decision for ctx.target on ctx.host (also used by the re-check form). */
export async function evaluate(ctx: RequestContext, options: { canSetCookie: boolean }): Promise<Decision> {
  const { routes, now } = ctx.runtime;
  const path = ctx.target?.path ?? '/';
  const route = routes.match(ctx.host, path);
  if (!route) throw new GatewayError('TG_ERR_NO_ROUTE', `No application is configured at ${ctx.host}${path}.`);
  ctx.route = route;
  const user = await identifyUser(ctx, options);
  ctx.session = user.session;
  const device = await identifyDevice(ctx);
  const posture = await gatherPosture(ctx, device);
  ctx.posture = posture;
  const decision = decide({ route, publicPath: routes.isPublicPath(route, path), user, device, posture }, now());
  ctx.decision = decision;
  return decision;
}
