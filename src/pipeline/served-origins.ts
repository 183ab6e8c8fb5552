// Which origins the gateway may send a browser to: exactly a configured host (a route's `host`, the admin
// host) on the scheme of this request, with the port the host names or, when it names none, the port this
// connection came in on (or the one a trusted proxy forwarded; the scheme's default when the client's Host
// names no port, as behind a port mapping). The Host header alone never makes an origin ours, so a forged
// Host cannot steer a redirect (OWASP: unvalidated redirects).
import { GatewayError } from '../errors.ts';
import type { GatewayConfig } from '../config/schema.ts';
import type { RequestContext } from './request-context.ts';

export interface ServedOrigins {
  /** This request's own origin (e.g. "https://app.example.com") when it is one of ours, else undefined. */
  readonly own: string | undefined;
  /** True when `url` is on one of our origins, with no credentials in it. */
  allows(url: URL): boolean;
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };
/** What a host and port may be spelled with, exactly: no userinfo, percent-escapes, IDN or odd IPv4 forms. */
const PLAIN_AUTHORITY = /^[a-z0-9.-]+(?::\d{1,5})?$/;

/** Every host the gateway is configured to answer for (lower-case, each optionally with ":port"). */
export function configuredHosts(config: GatewayConfig): string[] {
  // `admin.host` (the console's own host) joins when the config has one.
  const adminHost = (config.admin as { host?: unknown }).host;
  return [...config.routes.map((route) => route.host), ...(typeof adminHost === 'string' ? [adminHost.toLowerCase()] : [])];
}

export function servedOrigins(ctx: RequestContext): ServedOrigins {
  const protocol = `${ctx.protocol}:`;
  const hosts = configuredHosts(ctx.runtime.config).map(splitHost);
  // A host written without a port is reached on whatever port clients use for this listener.
  const defaultPort = DEFAULT_PORTS[protocol] ?? '';
  const hostPort = splitHost(ctx.host).port;
  const portless = new Set([String(ctx.req.socket.localPort ?? '')]);
  if (ctx.fromTrustedProxy || hostPort === undefined) portless.add(hostPort ?? defaultPort);

  function allows(url: URL): boolean {
    if (url.protocol !== protocol || url.username !== '' || url.password !== '') return false;
    const port = url.port || (DEFAULT_PORTS[url.protocol] ?? '');
    return hosts.some((h) => h.name === url.hostname && (h.port === undefined ? portless.has(port) : h.port === port));
  }

  return { own: ownOrigin(ctx, allows), allows };
}

/** This request's own origin, or a 400 for a Host that is not one of ours (nothing is built from it). */
export function requireOwnOrigin(ctx: RequestContext): string {
  const own = servedOrigins(ctx).own;
  if (!own) {
    throw new GatewayError('TG_ERR_BAD_REQUEST', "This address is not one the gateway is configured for. Use the application's configured address.", { details: { reason: 'host-not-configured' } });
  }
  return own;
}

/** True when the authority as written is exactly what the URL parser made of it (case aside). */
export function isPlainAuthority(written: string, url: URL): boolean {
  const lower = written.toLowerCase();
  if (!PLAIN_AUTHORITY.test(lower)) return false;
  const [name, port] = lower.split(':');
  // The port as written: "080" or "+80" are not spellings of 80 here.
  return name === url.hostname && (port === undefined ? url.port === '' : port === (url.port || DEFAULT_PORTS[url.protocol]));
}

function ownOrigin(ctx: RequestContext, allows: (url: URL) => boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(`${ctx.protocol}://${ctx.host}/`);
  } catch {
    return undefined;
  }
  return isPlainAuthority(ctx.host, url) && allows(url) ? url.origin : undefined;
}

function splitHost(host: string): { name: string; port: string | undefined } {
  const match = /^(.+):(\d+)$/.exec(host);
  return match ? { name: match[1] ?? host, port: String(Number(match[2])) } : { name: host, port: undefined };
}
