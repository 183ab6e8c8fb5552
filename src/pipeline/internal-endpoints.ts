// The gateway's own endpoints under /.trustgate/: the table's shape, and the dispatch that serves one.
// The composition root (gateway.ts) combines every feature's entries into one table and hands it to
// the pipeline, which imports no endpoint itself. Admin console entries ("admin…") are served only on
// admin.host (see admin-host.ts). They are matched on the normalised path, so "/app/../.trustgate/x"
// lands here too.
import { GatewayError } from '../errors.ts';
import type { RequestContext } from './request-context.ts';
import { checkHandlerHost } from '../http/admin-host.ts';

export const INTERNAL_PREFIX = '/.trustgate/';

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
