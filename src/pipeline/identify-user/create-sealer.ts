// Seals small JSON payloads into encrypted, authenticated cookies: JWE compact, alg "dir", enc A256GCM
// (jose). Keys are derived per purpose with HKDF from the configured secrets; the first secret seals,
// every secret opens (rotation), and the JWE `kid` names which one sealed a value.
import { createHash, hkdfSync } from 'node:crypto';
import { EncryptJWT, jwtDecrypt, type JWTPayload } from 'jose';

export interface Sealer {
  seal(payload: Record<string, unknown>, expiresAtMs: number): Promise<string>;
  /** The payload, or undefined for anything tampered, expired, foreign or sealed with an unknown key. */
  open(token: string, nowMs: number): Promise<JWTPayload | undefined>;
}

interface DerivedKey {
  kid: string;
  key: Uint8Array;
}

export function createSealer(options: { secrets: readonly string[]; purpose: string }): Sealer {
  const keys: DerivedKey[] = options.secrets.map((secret) => deriveKey(secret, options.purpose));
  const byKid = new Map(keys.map((k) => [k.kid, k.key]));
  const sealing = keys[0];
  if (!sealing) throw new Error('createSealer needs at least one secret');

  return {
    async seal(payload, expiresAtMs) {
      return new EncryptJWT(payload)
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: sealing.kid, typ: options.purpose })
        .setExpirationTime(Math.floor(expiresAtMs / 1000))
        .encrypt(sealing.key);
    },
    async open(token, nowMs) {
      try {
        const { payload } = await jwtDecrypt(
          token,
          (header) => {
            const key = header.kid === undefined ? undefined : byKid.get(header.kid);
            if (!key) throw new Error('unknown key');
            return key;
          },
          {
            keyManagementAlgorithms: ['dir'],
            contentEncryptionAlgorithms: ['A256GCM'],
            typ: options.purpose,
            currentDate: new Date(nowMs),
            requiredClaims: ['exp'],
          },
        );
        return payload;
      } catch {
        return undefined;
      }
    },
  };
}

function deriveKey(secret: string, purpose: string): DerivedKey {
  const key = new Uint8Array(hkdfSync('sha256', secret, 'trustgate', `trustgate ${purpose} A256GCM`, 32));
  const kid = createHash('sha256').update(key).digest('base64url').slice(0, 12);
  return { kid, key };
}
