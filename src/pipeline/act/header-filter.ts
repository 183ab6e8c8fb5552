// Decides which inbound headers never reach an upstream: every header the gateway sets and every header
// a common gateway or CDN uses to carry identity or client facts, in any spelling a backend could fold
// into the same name. Backends fold differently (CGI/PHP: upper-case, non-alphanumerics to "_"; some
// frameworks ignore case; some drop separators), so names are compared after the coarsest fold of all:
// lower-case with every character that is not a letter or digit removed. Any two names that CGI, case
// folding or separator dropping could confuse fold to the same string here.

/**
 * Protected names as written in the README; a trailing "*" makes an entry a prefix. Beyond the gateway's
 * own headers these are what nginx, Envoy, oauth2-proxy, Authelia, Pomerium, Cloudflare, Fastly, Akamai,
 * Google IAP, AWS ALB, Azure, Kubernetes and Next.js use to say who the client is or what it asked for.
 */
export const PROTECTED_HEADERS: readonly string[] = [
  'X-Trustgate-*', 'X-Forwarded-*', 'Forwarded', 'X-Real-IP', 'X-Request-Id', 'X-Client-IP',
  'X-Auth-Request-*', 'Remote-User', 'Remote-Email', 'Remote-Groups', 'Remote-Name',
  'X-Original-*', 'X-Rewrite-URL', 'X-Envoy-*', 'X-Client-Cert*', 'X-SSL-Client-*', 'Ssl-Client-*',
  'X-Forwarded-Client-Cert', 'X-Cluster-Client-IP', 'Fastly-Client-IP', 'True-Client-IP', 'CF-Connecting-IP*',
  'x-middleware-subrequest',
  // Other identity carriers: Pomerium, Google IAP, Cloudflare Access, AWS ALB, Azure App Service,
  // Kubernetes authenticating proxies, Grafana/Vouch/authentik/Tailscale auth proxies.
  'X-Pomerium-*', 'X-Goog-Authenticated-User-*', 'X-Goog-Iap-*', 'Cf-Access-*', 'X-Amzn-Oidc-*', 'X-MS-Client-Principal*',
  'X-Remote-User', 'X-Remote-Group', 'X-Remote-Extra-*', 'X-WebAuth-User', 'X-WebAuth-Groups', 'X-WebAuth-Email',
  'X-WebAuth-Name', 'X-WebAuth-Role', 'X-Vouch-*', 'X-Authentik-*', 'Tailscale-User-*',
  // More client-address carriers some frameworks believe.
  'X-Remote-IP', 'X-Remote-Addr', 'X-Originating-IP', 'X-Host', 'Client-IP',
];

/** The one fold every comparison uses: ASCII lower-case, letters and digits only. */
export function foldHeaderName(name: string): string {
  // Node hands over lower-case names; most are letters, digits and "-", so this is one small replace.
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export interface HeaderFilter {
  /** True when an inbound header of this name must not reach the upstream. */
  strips(name: string): boolean;
}

export interface HeaderFilterOptions {
  /** The config's stripHeaders entries (a trailing "*" makes a prefix), added to PROTECTED_HEADERS. */
  stripHeaders: readonly string[];
  /** deviceIdentity.certificateHeader: consumed by the gateway, so never forwarded. */
  certificateHeader: string;
}

// Header names repeat from request to request (accept, user-agent, cookie…), so answers are remembered;
// the bound keeps made-up names from growing the memo without limit.
const MEMO_LIMIT = 2048;

/** Built once per config: the folded names and prefixes, and a memo of answers by received name. */
export function createHeaderFilter(options: HeaderFilterOptions): HeaderFilter {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const entry of [...PROTECTED_HEADERS, ...options.stripHeaders, options.certificateHeader]) {
    const folded = foldHeaderName(entry);
    if (folded === '') continue;
    if (entry.endsWith('*')) prefixes.push(folded);
    else exact.add(folded);
  }
  const memo = new Map<string, boolean>();
  const decide = (name: string): boolean => {
    const folded = foldHeaderName(name);
    return exact.has(folded) || prefixes.some((prefix) => folded.startsWith(prefix));
  };
  return {
    strips(name) {
      let found = memo.get(name);
      if (found === undefined) {
        found = decide(name);
        if (memo.size < MEMO_LIMIT) memo.set(name, found);
      }
      return found;
    },
  };
}
