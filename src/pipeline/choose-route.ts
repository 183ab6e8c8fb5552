// The one way a request's path (or a form's return path) becomes a route: RouteTable.choose, which refuses
// a spelling another reading would send to a different route or public-ness (400, with its reason).
import { GatewayError } from '../errors.ts';
import type { RouteConfig } from '../config/schema.ts';
import type { RouteTable } from './match-route.ts';

/** The route and public-ness for `path` on `host`; throws TG_ERR_BAD_PATH (ambiguous) or TG_ERR_NO_ROUTE. */
export function chooseRoute(routes: RouteTable, host: string, path: string): { route: RouteConfig; publicPath: boolean } {
  const choice = routes.choose(host, path);
  if (choice.kind === 'ambiguous') {
    throw new GatewayError('TG_ERR_BAD_PATH', `Bad request path: ${choice.reason}.`, { details: { reason: choice.reason } });
  }
  if (choice.kind === 'none') throw new GatewayError('TG_ERR_NO_ROUTE', `No application is configured at ${host}${path}.`);
  return choice;
}
