// Finds the route for a host and a normalised path: exact host (with the port only when the route
// names one), then the longest path prefix on a segment boundary ("/app" matches "/app/x", not "/apple").
import type { RouteConfig } from '../config/schema.ts';
import { isUnderPrefix } from '../config/cross-check.ts';

export interface RouteTable {
  match(host: string, path: string): RouteConfig | undefined;
  /** True when the host (with or without port) is served by some route: the only valid return-URL hosts. */
  servesHost(host: string): boolean;
  isPublicPath(route: RouteConfig, path: string): boolean;
}

export function createRouteTable(routes: readonly RouteConfig[]): RouteTable {
  const byHost = new Map<string, RouteConfig[]>();
  for (const route of routes) {
    const list = byHost.get(route.host) ?? [];
    list.push(route);
    list.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
    byHost.set(route.host, list);
  }

  function candidates(host: string): RouteConfig[] {
    const exact = byHost.get(host);
    if (exact) return exact;
    const bare = stripPort(host);
    return bare === host ? [] : (byHost.get(bare) ?? []);
  }

  return {
    match(host, path) {
      return candidates(host.toLowerCase()).find((route) => isUnderPrefix(path, route.pathPrefix));
    },
    servesHost(host) {
      return candidates(host.toLowerCase()).length > 0;
    },
    isPublicPath(route, path) {
      return route.public.some((prefix) => isUnderPrefix(path, prefix));
    },
  };
}

/** Drops a numeric ":port"; anything else after a colon ("127.0.0.1:x@evil.example") is not a port. */
function stripPort(host: string): string {
  return /^(.+):\d+$/.exec(host)?.[1] ?? host;
}
