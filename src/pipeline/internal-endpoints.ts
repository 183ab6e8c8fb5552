// The gateway's own endpoints under /.trustgate/: the table's shape, and the dispatch that serves one.
// The composition root (gateway.ts) combines every feature's entries into one table and hands it to
// the pipeline, which imports no endpoint itself. Admin console entries ("admin…") are served only on
// admin.host (see admin-host.ts). They are matched on the normalised path, so "/app/../.trustgate/x"
// lands here too.
import { GatewayError } from '../errors.ts';
import type { RequestContext } from './request-context.ts';
import { checkHandlerHost } from '../http/admin-host.ts';

export const INTERNAL_PREFIX = '/.trustgate/';
const INTERNAL_SEGMENT = INTERNAL_PREFIX.slice(1, -1);

/**
 * Refuses (400, reason internal-prefix-spelling) a path whose first segment is another spelling of
 * ".trustgate": another case (also "ſ"/"ı" folds), percent-encoded once more, with trailing dots or
 * spaces, or a format suffix (".trustgate.json"). Proxied, a case-insensitive or lenient backend could
 * serve its own /.trustgate/…, and no spelling of a gateway endpoint may ever reach an app.
 */
export function refuseInternalSpelling(path: string): void {
  const first = path.split('/')[1] ?? '';
  if (first === INTERNAL_SEGMENT) return;
  let decoded = first;
  try {
    decoded = decodeURIComponent(first);
  } catch {
    // Not decodable: judge it as written.
  }
  const folded = decoded.toUpperCase().toLowerCase().replace(/[. ]+$/, '');
  if (folded === INTERNAL_SEGMENT || folded.startsWith(`${INTERNAL_SEGMENT}.`) || folded.startsWith(`${INTERNAL_SEGMENT};`)) {
    throw new GatewayError('TG_ERR_BAD_PATH', 'Bad request path: the gateway\'s own prefix is written only as "/.trustgate/".', { details: { reason: 'internal-prefix-spelling' } });
  }
}

export interface Endpoint {
  methods: readonly string[];
  handle: (ctx: RequestContext) => Promise<void> | void;
}

/** Endpoints by name: the path under /.trustgate/ without a trailing slash ("admin/grants/revoke"). */
export type Endpoints = Readonly<Record<string, Endpoint>>;

/** One table from every feature's entries; a name two features claim is a wiring mistake, refused at start. */
export function combineEndpoints(...tables: Endpoints[]): Endpoints {
  const combined: Record<string, Endpoint> = {};
  for (const table of tables) {
    for (const [name, endpoint] of Object.entries(table)) {
      if (Object.hasOwn(combined, name)) throw new GatewayError('TG_ERR_INTERNAL', `Two features mount the gateway endpoint "${name}".`);
      combined[name] = endpoint;
    }
  }
  return Object.freeze(combined);
}

export function isInternalPath(path: string): boolean {
  return path === INTERNAL_PREFIX.slice(0, -1) || path.startsWith(INTERNAL_PREFIX);
}

export async function serveEndpoint(ctx: RequestContext, endpoints: Endpoints): Promise<void> {
  const name = (ctx.target?.path ?? '').slice(INTERNAL_PREFIX.length).replace(/\/$/, '');
  // Before the method check: a 405 would tell a route host's visitor that the console exists.
  checkHandlerHost(ctx, name);
  const handler = Object.hasOwn(endpoints, name) ? endpoints[name] : undefined;
  if (!handler) throw new GatewayError('TG_ERR_NO_ROUTE', 'There is no such gateway page.');
  if (!handler.methods.includes(ctx.req.method ?? '')) {
    ctx.res?.setHeader('allow', handler.methods.join(', '));
    throw new GatewayError('TG_ERR_BAD_REQUEST', `Use ${handler.methods.join(' or ')} here.`, { status: 405 });
  }
  await handler.handle(ctx);
}
