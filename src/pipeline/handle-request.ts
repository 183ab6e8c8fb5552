// The pipeline, in order: normalise the path → internal endpoint or matched route → identify the user →
// identify the device → gather posture → decide → act. Only `act` (and the error path) answers. The
// internal endpoints come from the composition root's one table (gateway.ts); none is imported here.
import type { Duplex } from 'node:stream';
import { GatewayError, toGatewayError } from '../errors.ts';
import { checkFraming } from '../http/check-framing.ts';
import { normalizeTarget } from '../http/normalize-path.ts';
import { writeRawError } from '../http/raw-error.ts';
import { redirect, sendError } from '../http/respond.ts';
import { consoleHome, onAdminHost, refuseConsoleSpelling } from '../http/admin-host.ts';
import { isInternalPath, refuseInternalSpelling, serveEndpoint, type Endpoints } from './internal-endpoints.ts';
import type { RequestContext } from './request-context.ts';
import { evaluateRequest, recordEvaluation } from './evaluate-request.ts';
import { act, forwardUpgrade } from './act/act.ts';
import { checkWebSocketOrigin } from './check-websocket-origin.ts';

export async function handleRequest(ctx: RequestContext, endpoints: Endpoints): Promise<void> {
  try {
    ctx.target = normalizeTarget(checkFraming(ctx.req, ctx.res));
    refuseInternalSpelling(ctx.target.path);
    if (isInternalPath(ctx.target.path)) {
      await serveEndpoint(ctx, endpoints);
      return;
    }
    if (onAdminHost(ctx)) {
      redirect(ctx, consoleHome(ctx, ctx.target.path));
      return;
    }
    refuseConsoleSpelling(ctx, ctx.target.path);
    const evaluation = await evaluateRequest(ctx, { canSetCookie: true });
    recordEvaluation(ctx, evaluation);
    await act(ctx, evaluation.decision);
  } catch (error) {
    sendError(ctx, error);
  }
}

/**
 * WebSocket upgrades pass the same stages, plus the Origin check; the answer is the upstream's 101 or an
 * HTTP error with the request id, written on the socket. Returns the status for the decision log.
 */
export async function handleUpgrade(ctx: RequestContext, socket: Duplex, head: Buffer): Promise<number> {
  try {
    ctx.target = normalizeTarget(checkFraming(ctx.req, undefined, 'upgrade'));
    refuseInternalSpelling(ctx.target.path);
    // The gateway's own endpoints are never proxied, and none of them speaks WebSocket.
    if (isInternalPath(ctx.target.path)) {
      throw new GatewayError('TG_ERR_BAD_REQUEST', "The gateway's own pages do not accept WebSocket connections.", { details: { reason: 'websocket-not-served' } });
    }
    if (onAdminHost(ctx)) throw new GatewayError('TG_ERR_NO_ROUTE', 'The admin host serves no WebSockets.');
    refuseConsoleSpelling(ctx, ctx.target.path);
    const evaluation = await evaluateRequest(ctx, { canSetCookie: false });
    recordEvaluation(ctx, evaluation);
    const { decision, route } = evaluation;
    if (!route.websockets) throw new GatewayError('TG_ERR_FORBIDDEN', 'WebSockets are not enabled for this route.');
    checkWebSocketOrigin(ctx, route);
    if (decision.verdict === 'authenticate') throw new GatewayError('TG_ERR_UNAUTHENTICATED', 'Sign in first.');
    if (decision.verdict === 'deny') throw new GatewayError('TG_ERR_FORBIDDEN', 'Access denied.', { details: { reasons: decision.reasons } });
    forwardUpgrade(ctx, socket, head);
    return 101;
  } catch (error) {
    const status = error instanceof GatewayError ? error.status : 500;
    if (status >= 500) ctx.runtime.log.error({ requestId: ctx.id, err: error }, 'upgrade failed');
    const refused = toGatewayError(error);
    writeRawError(socket, { status, code: refused.code, requestId: ctx.id, message: refused.expose ? refused.message : 'The upgrade failed.', reason: refused.details?.reason as string | undefined });
    return status;
  }
}
