// The IdP's signing keys (its discovered jwks_uri, fetched and cached by jose) for verifying
// back-channel logout tokens; a new key set is made only when the jwks_uri changes.
import type * as oidc from 'openid-client';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { GatewayError } from '../../errors.ts';

export type SigningKeys = (found: oidc.Configuration) => { issuer: string; keys: JWTVerifyGetKey };

export function createSigningKeys(timeoutMs: number): SigningKeys {
  let remote: { uri: string; keys: JWTVerifyGetKey } | undefined;
  return (found) => {
    const metadata = found.serverMetadata();
    if (!metadata.jwks_uri) throw new GatewayError('TG_ERR_IDP_UNAVAILABLE', 'The identity provider advertises no jwks_uri.');
    if (remote?.uri !== metadata.jwks_uri) {
      remote = { uri: metadata.jwks_uri, keys: createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: timeoutMs }) };
    }
    return { issuer: metadata.issuer, keys: remote.keys };
  };
}
