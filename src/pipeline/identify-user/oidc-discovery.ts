// OpenID Connect discovery (openid-client v6) with retry: one discovery in flight at a time, and after a
// failure a background retry with doubling delay (500 ms up to 30 s) until the issuer answers.
import * as oidc from 'openid-client';
import { GatewayError } from '../../errors.ts';
import type { OidcConfig } from '../../config/schema.ts';
import { isLoopbackHost } from '../../config/loopback.ts';

export interface OidcDiscovery {
  /** The discovered configuration, once discovery succeeded. */
  current(): oidc.Configuration | undefined;
  /** Resolves with the configuration; discovers now if not yet done. Throws TG_ERR_IDP_UNAVAILABLE. */
  discover(): Promise<oidc.Configuration>;
  close(): void;
}

type DiscoveryLog = { warn(obj: object, msg: string): void };

async function discoverIssuer(config: OidcConfig, log: DiscoveryLog): Promise<oidc.Configuration> {
  const issuer = new URL(config.issuer);
  const insecure = issuer.protocol === 'http:' && (isLoopbackHost(issuer.hostname) || config.allowInsecureIssuer);
  const found = await oidc.discovery(issuer, config.clientId, undefined, oidc.ClientSecretBasic(config.clientSecret), {
    timeout: Math.ceil(config.discoveryTimeout / 1000),
    execute: insecure ? [oidc.allowInsecureRequests] : [],
  });
  if (!found.serverMetadata().supportsPKCE('S256')) {
    log.warn({ issuer: config.issuer }, 'issuer does not advertise PKCE S256; sending it anyway');
  }
  return found;
}

export function createOidcDiscovery(deps: { config: OidcConfig; log: DiscoveryLog }): OidcDiscovery {
  const { config, log } = deps;
  let configuration: oidc.Configuration | undefined;
  let pending: Promise<oidc.Configuration> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelayMs = 500;
  let closed = false;

  function discover(): Promise<oidc.Configuration> {
    if (configuration) return Promise.resolve(configuration);
    pending ??= attempt().finally(() => {
      pending = undefined;
    });
    return pending;
  }

  async function attempt(): Promise<oidc.Configuration> {
    try {
      configuration = await discoverIssuer(config, log);
      return configuration;
    } catch (cause) {
      scheduleRetry();
      throw new GatewayError('TG_ERR_IDP_UNAVAILABLE', 'The identity provider cannot be reached.', { cause });
    }
  }

  function scheduleRetry(): void {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      discover().catch((error: unknown) => log.warn({ err: String((error as Error).cause ?? error) }, 'OIDC discovery failed'));
    }, retryDelayMs);
    retryTimer.unref();
    retryDelayMs = Math.min(retryDelayMs * 2, 30_000);
  }

  return {
    current: () => configuration,
    discover,
    close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
    },
  };
}
