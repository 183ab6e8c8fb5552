// The gateway's own operational endpoints under /.trustgate/: health, readiness (config loaded, IdP
// discovered) and Prometheus metrics (only for metrics.allowFrom). gateway.ts mounts them beside every
// feature's endpoints.
import type { RequestContext } from './pipeline/request-context.ts';
import type { Endpoints } from './pipeline/internal-endpoints.ts';
import { sendJson, sendPage } from './http/respond.ts';

export const gatewayEndpoints: Endpoints = {
  healthz: { methods: ['GET', 'HEAD'], handle: (ctx) => sendJson(ctx, 200, { status: 'ok' }) },
  readyz: { methods: ['GET', 'HEAD'], handle: readiness },
  metrics: { methods: ['GET'], handle: sendMetrics },
};

function readiness(ctx: RequestContext): void {
  const idp = ctx.runtime.oidc.isReady();
  // Kick a discovery attempt so readiness recovers as soon as the IdP does.
  if (!idp) ctx.runtime.oidc.ready().catch(() => {});
  sendJson(ctx, idp ? 200 : 503, { status: idp ? 'ready' : 'not-ready', checks: { config: true, idp } });
}

export function sendMetrics(ctx: RequestContext): Promise<void> | void {
  const peer = ctx.req.socket.remoteAddress ?? '';
  if (!ctx.runtime.metricsAllowed.contains(peer)) {
    return sendPage(ctx, 403, 'error', { status: 403, title: 'Access denied', message: 'Metrics are not available from your address.', actions: [] });
  }
  return ctx.runtime.metrics.metrics().then((text) => {
    const res = ctx.res;
    if (!res) return;
    res.writeHead(200, { 'content-type': ctx.runtime.metrics.contentType, 'cache-control': 'no-store' });
    res.end(text);
  });
}
