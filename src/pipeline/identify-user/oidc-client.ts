// The gateway's OpenID Connect relying party (openid-client v6), wired from small parts: discovery with
// retry (oidc-discovery.ts), the redirect URLs (oidc-urls.ts), the grants and revocation
// (oidc-grants.ts) and the IdP's signing keys for back-channel logout tokens (oidc-signing-keys.ts).
// openid-client errors are turned into GatewayErrors in those parts; nothing above sees them.
import type { JWTVerifyGetKey } from 'jose';
import type { OidcConfig } from '../../config/schema.ts';
import { createOidcDiscovery } from './oidc-discovery.ts';
import { exchangeCode, fetchUserClaims, refreshIdentity, revokeRefreshToken, type LoginChecks } from './oidc-grants.ts';
import type { Identity } from './oidc-identity.ts';
import { createSigningKeys } from './oidc-signing-keys.ts';
import { authorizationUrl, endSessionUrl } from './oidc-urls.ts';

export interface OidcClient {
  isReady(): boolean;
  /** Resolves once discovery succeeded; retries now if it has not. Throws TG_ERR_IDP_UNAVAILABLE. */
  ready(): Promise<void>;
  authorizationUrl(checks: LoginChecks): Promise<URL>;
  exchangeCode(callbackQuery: string, checks: LoginChecks): Promise<Identity>;
  refresh(refreshToken: string, previous: { sub: string }): Promise<Identity>;
  /** The user's current email and groups from the userinfo endpoint (OIDC Core 5.3); throws TG_ERR_SIGNIN_FAILED. */
  userinfo(accessToken: string, sub: string): Promise<Pick<Identity, 'email' | 'name' | 'groups'>>;
  endSessionUrl(idTokenHint: string | undefined, postLogoutRedirectUri: string): URL | undefined;
  /** Revokes a refresh token where the IdP advertises revocation_endpoint (RFC 7009); false when it does not. */
  revokeRefreshToken(refreshToken: string): Promise<boolean>;
  /** The discovered issuer and its key set (jwks_uri), for verifying logout tokens. */
  signingKeys(): Promise<{ issuer: string; keys: JWTVerifyGetKey }>;
  close(): void;
}

export function createOidcClient(deps: {
  config: OidcConfig;
  log: { warn(obj: object, msg: string): void };
  now: () => number;
}): OidcClient {
  const { config, now } = deps;
  const discovery = createOidcDiscovery(deps);
  const signingKeys = createSigningKeys(config.discoveryTimeout);
  const grants = async () => ({ found: await discovery.discover(), config, nowMs: now });
  return {
    isReady: () => discovery.current() !== undefined,
    ready: async () => {
      await discovery.discover();
    },
    authorizationUrl: async (checks) => authorizationUrl(await discovery.discover(), config, checks),
    exchangeCode: async (callbackQuery, checks) => exchangeCode(await grants(), callbackQuery, checks),
    refresh: async (refreshToken, previous) => refreshIdentity(await grants(), refreshToken, previous),
    userinfo: async (accessToken, sub) => fetchUserClaims(await grants(), accessToken, sub),
    endSessionUrl: (idTokenHint, postLogoutRedirectUri) => endSessionUrl(discovery.current(), config, idTokenHint, postLogoutRedirectUri),
    revokeRefreshToken: async (refreshToken) => revokeRefreshToken(await grants(), refreshToken),
    signingKeys: async () => signingKeys(await discovery.discover()),
    close: () => discovery.close(),
  };
}
