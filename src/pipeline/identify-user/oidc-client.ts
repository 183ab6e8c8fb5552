// The gateway's OpenID Connect relying party (openid-client v6): discovery with retry, authorization
// code + PKCE (S256) URLs, code exchange with state and nonce checks, refresh, RP-initiated logout,
// refresh-token revocation (RFC 7009) and the IdP's signing keys for back-channel logout tokens.
// openid-client errors are turned into GatewayErrors here; nothing above sees them.
import * as oidc from 'openid-client';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { GatewayError } from '../../errors.ts';
import type { OidcConfig } from '../../config/schema.ts';
import { isLoopbackHost } from '../../http/loopback.ts';

export interface Identity {
  sub: string;
  email: string;
  name: string | undefined;
  groups: string[];
  refreshToken: string | undefined;
  accessToken: string | undefined;
  idToken: string | undefined;
  /** The IdP session id (ID token `sid`), when the IdP sends one (back-channel logout matches on it). */
  sid: string | undefined;
  /** When the IdP tokens expire (ms since epoch), if the IdP said. */
  tokenExpiresAtMs: number | undefined;
}

export interface LoginChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
}

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
  const { config, log, now } = deps;
  let configuration: oidc.Configuration | undefined;
  let pending: Promise<oidc.Configuration> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelayMs = 500;
  let closed = false;
  let remoteKeys: { uri: string; keys: JWTVerifyGetKey } | undefined;

  function discover(): Promise<oidc.Configuration> {
    if (configuration) return Promise.resolve(configuration);
    pending ??= runDiscovery().finally(() => {
      pending = undefined;
    });
    return pending;
  }

  async function runDiscovery(): Promise<oidc.Configuration> {
    const issuer = new URL(config.issuer);
    const insecure = issuer.protocol === 'http:' && (isLoopbackHost(issuer.hostname) || config.allowInsecureIssuer);
    try {
      const found = await oidc.discovery(issuer, config.clientId, undefined, oidc.ClientSecretBasic(config.clientSecret), {
        timeout: Math.ceil(config.discoveryTimeout / 1000),
        execute: insecure ? [oidc.allowInsecureRequests] : [],
      });
      if (!found.serverMetadata().supportsPKCE('S256')) {
        log.warn({ issuer: config.issuer }, 'issuer does not advertise PKCE S256; sending it anyway');
      }
      configuration = found;
      return found;
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

  function readClaims(claims: Record<string, unknown> | undefined): Pick<Identity, 'email' | 'name' | 'groups'> {
    const email = claims?.[config.emailClaim];
    const groups = claims?.[config.groupsClaim];
    if (typeof email !== 'string' || email === '') {
      throw new GatewayError('TG_ERR_SIGNIN_FAILED', `The identity provider sent no "${config.emailClaim}" claim.`);
    }
    return {
      email: email.toLowerCase(),
      name: typeof claims?.name === 'string' ? claims.name : undefined,
      groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [],
    };
  }

  function toIdentity(tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, fallback?: { sub: string }): Identity {
    const claims = tokens.claims();
    const sub = claims?.sub ?? fallback?.sub;
    if (!sub) throw new GatewayError('TG_ERR_SIGNIN_FAILED', 'The identity provider sent no subject.');
    const expiresIn = tokens.expiresIn();
    return {
      sub,
      ...readClaims(claims),
      refreshToken: tokens.refresh_token,
      accessToken: tokens.access_token,
      idToken: tokens.id_token,
      sid: typeof claims?.sid === 'string' && claims.sid !== '' ? claims.sid : undefined,
      tokenExpiresAtMs: expiresIn === undefined ? undefined : now() + expiresIn * 1000,
    };
  }

  return {
    isReady: () => configuration !== undefined,
    async ready() {
      await discover();
    },
    async authorizationUrl(checks) {
      const found = await discover();
      return oidc.buildAuthorizationUrl(found, {
        redirect_uri: checks.redirectUri,
        scope: config.scopes.join(' '),
        response_type: 'code',
        code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
        code_challenge_method: 'S256',
        state: checks.state,
        nonce: checks.nonce,
      });
    },
    async exchangeCode(callbackQuery, checks) {
      const found = await discover();
      const currentUrl = new URL(checks.redirectUri);
      currentUrl.search = callbackQuery;
      try {
        const tokens = await oidc.authorizationCodeGrant(found, currentUrl, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        });
        return toIdentity(tokens);
      } catch (cause) {
        if (cause instanceof GatewayError) throw cause;
        throw signInError(cause);
      }
    },
    async refresh(refreshToken, previous) {
      const found = await discover();
      try {
        return toIdentity(await oidc.refreshTokenGrant(found, refreshToken), previous);
      } catch (cause) {
        if (cause instanceof GatewayError) throw cause;
        throw new GatewayError('TG_ERR_SIGNIN_FAILED', 'The session could not be renewed.', { cause });
      }
    },
    async userinfo(accessToken, sub) {
      const found = await discover();
      try {
        return readClaims(await oidc.fetchUserInfo(found, accessToken, sub));
      } catch (cause) {
        if (cause instanceof GatewayError) throw cause;
        throw new GatewayError('TG_ERR_SIGNIN_FAILED', 'The identity provider did not confirm the user.', { cause });
      }
    },
    endSessionUrl(idTokenHint, postLogoutRedirectUri) {
      if (!configuration?.serverMetadata().end_session_endpoint) return undefined;
      const params: Record<string, string> = { post_logout_redirect_uri: postLogoutRedirectUri, client_id: config.clientId };
      if (idTokenHint) params.id_token_hint = idTokenHint;
      return oidc.buildEndSessionUrl(configuration, params);
    },
    async revokeRefreshToken(refreshToken) {
      const found = await discover();
      if (!found.serverMetadata().revocation_endpoint) return false;
      try {
        await oidc.tokenRevocation(found, refreshToken, { token_type_hint: 'refresh_token' });
        return true;
      } catch (cause) {
        throw new GatewayError('TG_ERR_IDP_UNAVAILABLE', 'The identity provider did not revoke the refresh token.', { cause });
      }
    },
    async signingKeys() {
      const found = await discover();
      const metadata = found.serverMetadata();
      if (!metadata.jwks_uri) throw new GatewayError('TG_ERR_IDP_UNAVAILABLE', 'The identity provider advertises no jwks_uri.');
      if (remoteKeys?.uri !== metadata.jwks_uri) {
        remoteKeys = { uri: metadata.jwks_uri, keys: createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: config.discoveryTimeout }) };
      }
      return { issuer: metadata.issuer, keys: remoteKeys.keys };
    },
    close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
    },
  };
}

function signInError(cause: unknown): GatewayError {
  // An error response from the IdP (e.g. access_denied) carries `error`; network failures do not.
  const error = (cause as { error?: unknown; code?: unknown }).error;
  if (typeof error === 'string') {
    return new GatewayError('TG_ERR_SIGNIN_FAILED', `The identity provider refused the sign-in (${error}).`, { cause, details: { error } });
  }
  const code = (cause as { code?: unknown }).code;
  if (code === 'OAUTH_TIMEOUT' || (cause as Error).name === 'TypeError' || (cause as Error).name === 'AbortError') {
    return new GatewayError('TG_ERR_IDP_UNAVAILABLE', 'The identity provider cannot be reached.', { cause });
  }
  return new GatewayError('TG_ERR_SIGNIN_FAILED', 'The sign-in response could not be verified.', { cause });
}
