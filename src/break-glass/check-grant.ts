// Applies an active break-glass grant to a denial it may cover: the request is let through (reason
// `break-glass-active`), the grant's first use is audited once across replicas, and expired or revoked
// grants simply stop matching on the next request.
import type { RequestContext } from '../pipeline/request-context.ts';
import type { Decision } from '../pipeline/decide/decide.ts';
import type { DeviceResult } from '../pipeline/identify-device/identify-device.ts';
import type { BreakGlassRule, RouteConfig } from '../config/schema.ts';
import type { GrantKey } from './grant.ts';

/** The device part of a grant's key: the certificate's host uuid, else the user's mapped devices. */
export function deviceKeyOf(device: DeviceResult | undefined, email: string): string {
  return device?.kind === 'certificate' ? device.uuid : `email:${email}`;
}

export function grantKeyFor(ctx: RequestContext, route: RouteConfig): GrantKey | undefined {
  if (!ctx.session || !route.breakGlass?.allowed) return undefined;
  return { user: ctx.session.email, deviceKey: deviceKeyOf(ctx.device, ctx.session.email), route: route.breakGlass.group ?? route.name };
}

/** A grant may open a denial only when every reason for it is one the route lets grants cover. */
export function isCoverable(decision: Decision, rule: BreakGlassRule | undefined): boolean {
  if (!rule?.allowed || decision.verdict !== 'deny' || decision.reasons.length === 0) return false;
  return decision.reasons.every((reason) => (rule.covers as readonly string[]).includes(reason));
}

export async function applyGrant(ctx: RequestContext, decision: Decision): Promise<Decision> {
  const route = ctx.route;
  const breakGlass = ctx.runtime.breakGlass;
  if (!route || !breakGlass || !isCoverable(decision, route.breakGlass)) return decision;
  const key = grantKeyFor(ctx, route);
  const grant = key ? await breakGlass.findActive(key) : undefined;
  if (!grant) return decision;
  ctx.grant = grant;
  if (await breakGlass.markFirstUse(grant.id)) {
    await breakGlass.audit(
      { event: 'break-glass.first-use', user: grant.user, device: grant.deviceKey, route: grant.route, grantId: grant.id, requestId: ctx.id, sourceAddress: ctx.clientAddress },
      { notify: route.breakGlass?.notify ?? true },
    );
  }
  return { verdict: 'allow', reasons: ['break-glass-active', ...decision.reasons] };
}
