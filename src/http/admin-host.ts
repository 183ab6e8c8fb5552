// Which host serves what: the admin console (every handler named "admin…") only on admin.host, and the
// admin host nothing but the console, its sign-in round trip and health checks. Route hosts answer 404
// for every spelling of /.trustgate/admin, so a script in a protected app can never reach the console
// on its own origin (with the admin's cookies and CSRF token).
import { GatewayError } from '../errors.ts';
import type { RequestContext } from '../pipeline/request-context.ts';

/** The gateway pages the admin host serves besides the console itself. */
const ADMIN_HOST_ALSO = new Set(['healthz', 'readyz', 'login', 'callback', 'logout', 'signed-out']);

/** Console pages and actions: every internal handler whose name starts with "admin". */
export function isAdminHandler(name: string): boolean {
  return name.toLowerCase().startsWith('admin');
}

/** The console's endpoint table, checked: a console entry not named "admin…" would be served on route hosts. */
export function consoleOnly<T extends object>(endpoints: T): T {
  const misnamed = Object.keys(endpoints).filter((name) => !isAdminHandler(name));
  if (misnamed.length > 0) throw new GatewayError('TG_ERR_INTERNAL', `Admin console endpoints must be named "admin…": ${misnamed.join(', ')}.`);
  return endpoints;
}

/**
 * True when `host` (the request's Host, lower-cased) is the configured admin host: exactly, or, when
 * admin.host names no port, on any port (as routes match).
 */
export function isAdminHost(adminHost: string | undefined, host: string): boolean {
  if (adminHost === undefined) return false;
  const wanted = adminHost.toLowerCase();
  const given = host.toLowerCase();
  if (given === wanted) return true;
  return !/:\d+$/.test(wanted) && /^(.+):\d+$/.exec(given)?.[1] === wanted;
}

export function onAdminHost(ctx: RequestContext): boolean {
  return isAdminHost(ctx.runtime.config.admin.host, ctx.host);
}

/** Refuses (404) an internal handler that this host does not serve; call before looking at the method. */
export function checkHandlerHost(ctx: RequestContext, name: string): void {
  const served = onAdminHost(ctx) ? isAdminHandler(name) || ADMIN_HOST_ALSO.has(name) : !isAdminHandler(name);
  if (!served) throw notHere();
}

/** Paths outside /.trustgate/ on the admin host: "/" leads to the console (its location is returned); anything else is 404, as no route is proxied there. */
export function consoleHome(ctx: RequestContext, path: string): string {
  if (path === '/') return '/.trustgate/admin/';
  throw notHere();
}

/**
 * On a route host, every spelling of /.trustgate/admin that a lenient reader could take for it: any
 * case, path parameters (";x"), trailing dots or spaces on a segment. The exact spelling is refused by
 * checkHandlerHost; these would otherwise travel to the upstream, which is refused here too (404).
 */
export function refuseConsoleSpelling(ctx: RequestContext, path: string): void {
  if (onAdminHost(ctx)) return;
  const [first, second] = path
    .split('/')
    .slice(1, 3)
    .map((segment) => segment.split(';')[0]?.replace(/[. ]+$/, '').toLowerCase() ?? '');
  if (first === '.trustgate' && second !== undefined && second.startsWith('admin')) throw notHere();
}

function notHere(): GatewayError {
  return new GatewayError('TG_ERR_NO_ROUTE', 'There is no such gateway page.');
}
