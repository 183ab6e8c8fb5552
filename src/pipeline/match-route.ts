// Finds the route for a host and a normalised path: exact host (with the port only when the route
// names one), then the longest path prefix on a segment boundary ("/app" matches "/app/x", not "/apple").
// `choose` also reads the path the way common backends might (case-insensitively, without a ".json"
// format suffix, percent-decoded a second time) and refuses a path whose readings pick different routes
// or public-ness: the backend must never serve, under a looser rule, what the gateway decided on.
import type { RouteConfig } from '../config/schema.ts';
import { isUnderPrefix } from '../config/is-under-prefix.ts';

export type RouteChoice =
  | { readonly kind: 'route'; readonly route: RouteConfig; readonly publicPath: boolean }
  | { readonly kind: 'none' }
  | { readonly kind: 'ambiguous'; readonly reason: string };

/** No plain `match`: every caller takes `choose`, so no caller can pick a looser route for an ambiguous spelling. */
export interface RouteTable {
  /** The route and public-ness for the path, or "ambiguous" when another reading of it would differ. */
  choose(host: string, path: string): RouteChoice;
  /** True when the host (with or without port) is served by some route: the only valid return-URL hosts. */
  servesHost(host: string): boolean;
  isPublicPath(route: RouteConfig, path: string): boolean;
}

type Fold = (text: string) => string;
const exact: Fold = (text) => text;
// Upper then lower: "ı" (dotless i) and "ſ" (long s) fold to "i" and "s" as .NET's and Java's
// case-insensitive comparisons do, not only the ASCII letters.
const anyCase: Fold = (text) => text.toUpperCase().toLowerCase();

/** One host's routes: longest prefix first, exactly and folded, and every route or public prefix, folded. */
interface HostRoutes {
  readonly exact: readonly RouteConfig[];
  readonly folded: readonly RouteConfig[];
  readonly prefixes: ReadonlySet<string>;
}

export function createRouteTable(routes: readonly RouteConfig[]): RouteTable {
  const byHost = new Map<string, RouteConfig[]>();
  for (const route of routes) {
    const list = byHost.get(route.host) ?? [];
    list.push(route);
    list.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
    byHost.set(route.host, list);
  }
  const hosts = new Map<string, HostRoutes>();
  for (const [host, list] of byHost) {
    hosts.set(host, {
      exact: list,
      folded: [...list].sort((a, b) => anyCase(b.pathPrefix).length - anyCase(a.pathPrefix).length),
      prefixes: new Set(list.flatMap((r) => [r.pathPrefix, ...r.public]).map((p) => anyCase(withoutTrailingSlash(p)))),
    });
  }

  const none: HostRoutes = { exact: [], folded: [], prefixes: new Set() };
  function candidates(host: string): HostRoutes {
    const exactHost = hosts.get(host);
    if (exactHost) return exactHost;
    const bare = stripPort(host);
    return bare === host ? none : (hosts.get(bare) ?? none);
  }

  return {
    choose(host, path) {
      const table = candidates(host.toLowerCase());
      const route = table.exact.find((r) => isUnderPrefix(path, r.pathPrefix));
      const decided = pick(table.exact, path, exact);
      for (const reading of readings(table.prefixes, path)) {
        // Folded, "/ADMIN" is under "/admin" before it is under "/".
        if (pick(table.folded, reading.path, anyCase) !== decided) return { kind: 'ambiguous', reason: reading.reason };
      }
      if (!route) return { kind: 'none' };
      return { kind: 'route', route, publicPath: route.public.some((prefix) => isUnderPrefix(path, prefix)) };
    },
    servesHost(host) {
      return candidates(host.toLowerCase()).exact.length > 0;
    },
    isPublicPath(route, path) {
      return route.public.some((prefix) => isUnderPrefix(path, prefix));
    },
  };
}

/** The route (and whether the path is public in it) for `path` under `fold`, as a comparable key. */
function pick(longestFirst: readonly RouteConfig[], path: string, fold: Fold): string {
  const folded = fold(path); // once, not once per route and public prefix
  const under = (prefix: string): boolean => isUnderPrefix(folded, fold(prefix));
  const route = longestFirst.find((r) => under(r.pathPrefix));
  return route ? `${route.name}${route.public.some(under) ? ' (public)' : ''}` : '';
}

/** Other ways a backend may read the path; each is matched case-insensitively. */
function readings(prefixes: ReadonlySet<string>, path: string): { path: string; reason: string }[] {
  const out = [{ path, reason: 'its letter case selects another route or public path than its exact spelling' }];
  // Rails ("(.:format)") and Spring's suffix patterns serve "/admin.json" as "/admin". Only considered when
  // the stripped path is itself a prefix, so "/v1.0" is not refused for looking like "/v1".
  const stripped = path.replace(/\/([^/.]+)\.[^/]*(\/?)$/, '/$1$2');
  if (stripped !== path && prefixes.has(anyCase(withoutTrailingSlash(stripped)))) {
    out.push({ path: stripped, reason: 'without its format suffix it selects another route or public path' });
  }
  // A backend that percent-decodes again (IIS's double decoding, some frameworks) reads "/%2561dmin" as "/admin".
  const twice = decodeAgain(path);
  if (twice !== undefined) out.push({ path: twice, reason: 'decoded a second time it selects another route or public path' });
  return out;
}

function decodeAgain(path: string): string | undefined {
  if (!/%[0-9A-Fa-f]{2}/.test(path)) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  const segments: string[] = [];
  for (const raw of decoded.split(/[/\\]+/)) {
    // What the first decoding refused, the backend would strip: ";params", trailing dots and spaces.
    const bare = raw.replace(/;.*$/, '');
    const segment = bare === '.' || bare === '..' ? bare : bare.replace(/[. \t]+$/, '');
    if (segment === '..') segments.pop();
    else if (segment !== '.' && segment !== '') segments.push(segment);
  }
  return `/${segments.join('/')}`;
}

function withoutTrailingSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** Drops a numeric ":port"; anything else after a colon ("127.0.0.1:x@evil.example") is not a port. */
function stripPort(host: string): string {
  return /^(.+):\d+$/.exec(host)?.[1] ?? host;
}
