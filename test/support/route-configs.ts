// Route configs for unit tests, parsed through the real schema so every default is the one the gateway
// would apply: each entry is merged over a minimal route (host app.example, any signed-in user).
import { configSchema, type RouteConfig } from '../../src/config/schema.ts';

export function routeConfigs(list: readonly Record<string, unknown>[]): RouteConfig[] {
  const config = configSchema.parse({
    listeners: [{ port: 0 }],
    oidc: { issuer: 'http://127.0.0.1:1', clientId: 'x', clientSecret: 'x' },
    session: { secrets: ['s'.repeat(32)] },
    routes: list.map((r, i) => ({ name: `route-${i}`, host: 'app.example', upstream: 'http://127.0.0.1:2', allowAnyAuthenticatedUser: true, ...r })),
  });
  return config.routes;
}

/** One route: `routeConfig({ device: {...} })`. */
export function routeConfig(overrides: Record<string, unknown> = {}): RouteConfig {
  return routeConfigs([overrides])[0] as RouteConfig;
}
