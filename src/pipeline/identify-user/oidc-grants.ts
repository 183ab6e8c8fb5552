// The calls the gateway makes to the IdP's endpoints once discovered: authorization code exchange (state,
// nonce and PKCE checked), refresh, userinfo (OIDC Core 5.3) and refresh-token revocation (RFC 7009).
// openid-client errors become GatewayErrors here.
import * as oidc from 'openid-client';
import { GatewayError } from '../../errors.ts';
import type { OidcConfig } from '../../config/schema.ts';
import { identityFromTokens, readClaims, type Identity, type UserClaims } from './oidc-identity.ts';

export interface LoginChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
}

interface GrantContext {
  found: oidc.Configuration;
  config: OidcConfig;
  nowMs: () => number;
}

/** Keeps our own errors (a missing claim) and wraps anything openid-client threw. */
function rethrow(cause: unknown, wrap: (cause: unknown) => GatewayError): never {
  if (cause instanceof GatewayError) throw cause;
  throw wrap(cause);
}

export async function exchangeCode({ found, config, nowMs }: GrantContext, callbackQuery: string, checks: LoginChecks): Promise<Identity> {
  const currentUrl = new URL(checks.redirectUri);
  currentUrl.search = callbackQuery;
  try {
    const tokens = await oidc.authorizationCodeGrant(found, currentUrl, {
      pkceCodeVerifier: checks.codeVerifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    });
    return identityFromTokens(config, nowMs(), tokens);
  } catch (cause) {
    rethrow(cause, signInError);
  }
}

export async function refreshIdentity({ found, config, nowMs }: GrantContext, refreshToken: string, previous: { sub: string }): Promise<Identity> {
  try {
    return identityFromTokens(config, nowMs(), await oidc.refreshTokenGrant(found, refreshToken), previous);
  } catch (cause) {
    rethrow(cause, (wrapped) => new GatewayError('TG_ERR_SIGNIN_FAILED', 'The session could not be renewed.', { cause: wrapped }));
  }
}

export async function fetchUserClaims({ found, config }: GrantContext, accessToken: string, sub: string): Promise<UserClaims> {
  try {
    return readClaims(config, await oidc.fetchUserInfo(found, accessToken, sub));
  } catch (cause) {
    rethrow(cause, (wrapped) => new GatewayError('TG_ERR_SIGNIN_FAILED', 'The identity provider did not confirm the user.', { cause: wrapped }));
  }
}

export async function revokeRefreshToken({ found }: GrantContext, refreshToken: string): Promise<boolean> {
  if (!found.serverMetadata().revocation_endpoint) return false;
  try {
    await oidc.tokenRevocation(found, refreshToken, { token_type_hint: 'refresh_token' });
    return true;
  } catch (cause) {
    throw new GatewayError('TG_ERR_IDP_UNAVAILABLE', 'The identity provider did not revoke the refresh token.', { cause });
  }
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
