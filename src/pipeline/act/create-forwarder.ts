// Forwards allowed requests and WebSocket upgrades to one route's upstream with http-proxy over a
// keep-alive agent. Upstream failures become 502 (unreachable) or 504 (too slow) error pages.
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import { GatewayError } from '../../errors.ts';
import type { RouteConfig } from '../../config/schema.ts';
import type { RequestContext } from '../request-context.ts';
import { bannerHtml, relayWithBanner } from './break-glass-banner.ts';

export interface Forwarder {
  web(ctx: RequestContext, onError: (ctx: RequestContext, error: GatewayError) => void): void;
  ws(ctx: RequestContext, socket: Duplex, head: Buffer): void;
  close(): void;
}

export function createForwarder(route: RouteConfig): Forwarder {
  const target = new URL(route.upstream);
  const agent =
    target.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, maxSockets: 512, scheduling: 'lifo' })
      : new http.Agent({ keepAlive: true, maxSockets: 512, scheduling: 'lifo' });
  const proxy = httpProxy.createProxyServer({
    // Parsed once here: given a string, http-proxy would re-parse the target on every request.
    target: legacyTarget(target),
    agent,
    changeOrigin: !route.preserveHost,
    xfwd: false,
    ws: route.websockets,
    proxyTimeout: route.timeout,
    // req.url is already the canonical origin-form target we decided on: forward it as is (without
    // this, http-proxy would url.parse() it again on every request).
    toProxy: true,
  });
  const timedOut = new WeakSet<http.IncomingMessage>();
  proxy.on('proxyReq', (proxyReq, req) => {
    proxyReq.on('timeout', () => timedOut.add(req));
  });
  // Without a listener http-proxy would throw on errors not passed to a callback (e.g. on WebSockets).
  proxy.on('error', () => {});
  // Responses the gateway relays itself (pages under emergency access get a banner).
  const relays = new WeakMap<http.IncomingMessage, (proxyRes: http.IncomingMessage) => void>();
  proxy.on('proxyRes', (proxyRes, req) => relays.get(req)?.(proxyRes));

  return {
    web(ctx, onError) {
      const res = ctx.res as http.ServerResponse;
      const grant = ctx.grant;
      const banner = grant && ctx.req.method === 'GET';
      if (banner) {
        // Ask for an uncompressed page so the banner can be added without re-encoding.
        delete ctx.req.headers['accept-encoding'];
        relays.set(ctx.req, (proxyRes) => relayWithBanner(proxyRes, res, bannerHtml(grant.expiresAtMs)));
      }
      proxy.web(ctx.req, res, banner ? { selfHandleResponse: true } : {}, (error) => {
        const code = (error as NodeJS.ErrnoException).code;
        const gatewayError = timedOut.has(ctx.req)
          ? new GatewayError('TG_ERR_UPSTREAM_TIMEOUT', `${route.name} did not answer within ${route.timeout / 1000} s.`, { cause: error })
          : new GatewayError('TG_ERR_UPSTREAM_UNAVAILABLE', `${route.name} cannot be reached right now.`, { cause: error, details: { code } });
        onError(ctx, gatewayError);
      });
    },
    ws(ctx, socket, head) {
      proxy.ws(ctx.req, socket, head, {}, () => {
        if (!socket.destroyed) socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      });
    },
    close() {
      proxy.close();
      agent.destroy();
    },
  };
}

/** The url.parse()-shaped object http-proxy reads (host, hostname, port, path), built without url.parse. */
function legacyTarget(url: URL): { protocol: string; host: string; hostname: string; port: number; path: string } {
  return {
    protocol: url.protocol,
    host: url.host,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    path: url.pathname === '/' ? '' : url.pathname,
  };
}
