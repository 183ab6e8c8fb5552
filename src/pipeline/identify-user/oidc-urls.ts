// The browser redirects to the IdP: the authorization request (code flow, PKCE S256, state, nonce) and
// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), when the IdP has an end_session_endpoint.
import * as oidc from 'openid-client';
import type { OidcConfig } from '../../config/schema.ts';
import type { LoginChecks } from './oidc-grants.ts';

export async function authorizationUrl(found: oidc.Configuration, config: OidcConfig, checks: LoginChecks): Promise<URL> {
  return oidc.buildAuthorizationUrl(found, {
    redirect_uri: checks.redirectUri,
    scope: config.scopes.join(' '),
    response_type: 'code',
    code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
    code_challenge_method: 'S256',
    state: checks.state,
    nonce: checks.nonce,
  });
}

export function endSessionUrl(found: oidc.Configuration | undefined, config: OidcConfig, idTokenHint: string | undefined, postLogoutRedirectUri: string): URL | undefined {
  if (!found?.serverMetadata().end_session_endpoint) return undefined;
  const params: Record<string, string> = { post_logout_redirect_uri: postLogoutRedirectUri, client_id: config.clientId };
  if (idTokenHint) params.id_token_hint = idTokenHint;
  return oidc.buildEndSessionUrl(found, params);
}
