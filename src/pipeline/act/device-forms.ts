// The forms on the device pages: "I fixed it — check again" (refetch in Fleet, wait, re-decide, and
// send the user on if the device now passes) and "Continue" on a warn-mode notice. Both need a session
// and a valid CSRF token, and only act on a return URL of the host they were posted to.
import { chooseRoute } from '../choose-route.ts';
import type { RequestContext } from '../request-context.ts';
import { evaluateRequest, recordEvaluation } from '../evaluate-request.ts';
import { refetchAndWait } from '../gather-posture/refetch-hosts.ts';
import { sendDeviceDenied } from './device-denied.ts';
import { acknowledgeWarning } from './device-warning.ts';
import type { Endpoints } from '../internal-endpoints.ts';
import { acceptForm } from '../accept-form.ts';
import { redirect } from '../../http/respond.ts';

/** The device pages' forms, mounted by the gateway under /.trustgate/. */
export const deviceFormEndpoints: Endpoints = {
  recheck: { methods: ['POST'], handle: recheckDevice },
  acknowledge: { methods: ['POST'], handle: acknowledgeDeviceWarning },
};

export async function recheckDevice(ctx: RequestContext): Promise<void> {
  const { returnTo } = await acceptForm(ctx);
  const { fleet, posture, config, now } = ctx.runtime;
  const first = await evaluateRequest(ctx, { canSetCookie: true });
  recordEvaluation(ctx, first);
  if (first.decision.verdict !== 'deny') return redirect(ctx, returnTo);
  const hostIds = first.posture.kind === 'evaluated' ? first.posture.verdict.hosts.filter((h) => !h.compliant).map((h) => h.host.id) : [];
  if (!fleet || !posture || first.device.kind === 'not-required' || hostIds.length === 0) return sendDeviceDenied(ctx, first.decision);
  const outcome = await refetchAndWait({ fleet, cache: posture, now }, hostIds, { waitMs: config.posture.recheckWait });
  const evaluation = await evaluateRequest(ctx, { canSetCookie: true });
  recordEvaluation(ctx, evaluation);
  const second = evaluation.decision;
  if (second.verdict !== 'deny') return redirect(ctx, returnTo);
  const notice =
    outcome.silent.length > 0
      ? `Your device did not report back within ${Math.round(config.posture.recheckWait / 1000)} seconds. Make sure it is on, connected and running Fleet Desktop, then try again.`
      : 'We checked again just now: your device still does not meet the requirements below.';
  sendDeviceDenied(ctx, second, notice);
}

export async function acknowledgeDeviceWarning(ctx: RequestContext): Promise<void> {
  const { returnTo } = await acceptForm(ctx);
  // The same choice as the request itself: an ambiguous spelling of the return path is refused, never
  // matched to a looser route whose warning would then be acknowledged.
  acknowledgeWarning(ctx, chooseRoute(ctx.runtime.routes, ctx.host, ctx.target?.path ?? '/').route.name);
  redirect(ctx, returnTo);
}
