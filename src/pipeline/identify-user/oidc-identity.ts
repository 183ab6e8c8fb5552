// Turns the IdP's token response or userinfo claims into the gateway's Identity: the configured email
// and groups claims (email lower-cased), the subject, the IdP session id and when the tokens expire.
import type * as oidc from 'openid-client';
import { GatewayError } from '../../errors.ts';
import type { OidcConfig } from '../../config/schema.ts';

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

export type UserClaims = Pick<Identity, 'email' | 'name' | 'groups'>;

export function readClaims(config: OidcConfig, claims: Record<string, unknown> | undefined): UserClaims {
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

export type Tokens = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;

/** `fallback` supplies the subject on a refresh whose response carries no ID token. */
export function identityFromTokens(config: OidcConfig, nowMs: number, tokens: Tokens, fallback?: { sub: string }): Identity {
  const claims = tokens.claims();
  const sub = claims?.sub ?? fallback?.sub;
  if (!sub) throw new GatewayError('TG_ERR_SIGNIN_FAILED', 'The identity provider sent no subject.');
  const expiresIn = tokens.expiresIn();
  return {
    sub,
    ...readClaims(config, claims),
    refreshToken: tokens.refresh_token,
    accessToken: tokens.access_token,
    idToken: tokens.id_token,
    sid: typeof claims?.sid === 'string' && claims.sid !== '' ? claims.sid : undefined,
    tokenExpiresAtMs: expiresIn === undefined ? undefined : nowMs + expiresIn * 1000,
  };
}
