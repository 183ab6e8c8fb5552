// Cross-Site WebSocket Hijacking: a browser attaches the user's cookies to a WebSocket handshake whatever
// page opened it, and the same-origin policy does not apply to WebSockets. Browsers always send the page's
// Origin (RFC 6455 §4.1), so an upgrade is let through only from the route's own origin — the scheme, host
// and port of this request — or from one the route lists in websocketOrigins. Clients that are not
// browsers send no Origin and cannot be driven by another site, so a missing Origin is allowed.
import { GatewayError } from '../errors.ts';
import type { RouteConfig } from '../config/schema.ts';
import { requestOrigin, type RequestContext } from './request-context.ts';

export function checkWebSocketOrigin(ctx: RequestContext, route: RouteConfig): void {
  const { origin, 'sec-websocket-origin': legacy } = ctx.req.headers;
  // Older drafts of the protocol (hybi-07..12) named the header Sec-WebSocket-Origin.
  const sent = origin ?? (Array.isArray(legacy) ? legacy.join(', ') : legacy);
  if (sent === undefined) return;
  const from = canonicalOrigin(sent);
  if (from !== undefined && (from === canonicalOrigin(requestOrigin(ctx)) || route.websocketOrigins.some((allowed) => canonicalOrigin(allowed) === from))) return;
  throw new GatewayError('TG_ERR_FORBIDDEN', 'This WebSocket connection was opened by a page on another site.', {
    details: { reason: 'websocket-origin-mismatch' },
  });
}

/** "https://app.example.com:443" → "https://app.example.com"; anything but a plain http(s) origin (including "null") → undefined. */
function canonicalOrigin(text: string): string | undefined {
  if (!/^https?:\/\/[^/?#@\\,\s]+$/i.test(text)) return undefined;
  try {
    return new URL(text).origin;
  } catch {
    return undefined;
  }
}
