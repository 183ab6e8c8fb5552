// Break-glass grants around the decision: the lookup of the active grant
// (before `decide`, which alone turns a covered denial into `break-glass-active`), and the once-only
// first-use audit. Expired or revoked grants simply stop being found on the next request.
import type { Session } from '../pipeline/identify-user/session-cookie.ts';
import type { DeviceResult } from '../pipeline/identify-device/identify-device.ts';
import type { RouteConfig } from '../config/schema.ts';
import { isCoverable } from './is-coverable.ts';
import type { BreakGlass } from './create-break-glass.ts';
import type { Grant, GrantKey } from './grant.ts';

/** The device part of a grant's key: the certificate's host uuid, else the user's mapped devices. */
export function deviceKeyOf(device: DeviceResult | undefined, email: string): string {
  return device?.kind === 'certificate' ? device.uuid : `email:${email}`;
}

export function grantKeyFor(session: Session | undefined, device: DeviceResult | undefined, route: RouteConfig): GrantKey | undefined {
  if (!session || !route.breakGlass?.allowed) return undefined;
  return { user: session.email, deviceKey: deviceKeyOf(device, session.email), route: route.breakGlass.group ?? route.name };
}

/**
 * The active grant for this user, device and route, looked up only when the decision without one is a
 * denial a grant could cover (so other requests never wait on the grant store).
 */
export async function findGrant(breakGlass: BreakGlass | undefined, facts: { route: RouteConfig; session: Session | undefined; device: DeviceResult }, withoutGrant: { readonly verdict: string; readonly reasons: readonly string[] }): Promise<Grant | undefined> {
  if (!breakGlass || !isCoverable(withoutGrant, facts.route.breakGlass)) return undefined;
  const key = grantKeyFor(facts.session, facts.device, facts.route);
  return key ? await breakGlass.findActive(key) : undefined;
}

/** The grant's first use is audited once across replicas. */
export async function auditFirstUse(breakGlass: BreakGlass, grant: Grant, route: RouteConfig, request: { id: string; clientAddress: string }): Promise<void> {
  if (!(await breakGlass.markFirstUse(grant.id))) return;
  await breakGlass.audit(
    { event: 'break-glass.first-use', user: grant.user, device: grant.deviceKey, route: grant.route, grantId: grant.id, requestId: request.id, sourceAddress: request.clientAddress },
    { notify: route.breakGlass?.notify ?? true },
  );
}
