// The storage contract for revoked sessions, met by the local file store (one gateway) and the Redis
// store (several replicas). Failures surface as GatewayError TG_ERR_REVOCATION_UNAVAILABLE.
import { GatewayError, isGatewayError } from '../errors.ts';
import type { RevocationRecord } from './revocation-record.ts';

export interface RevocationListener {
  /** A record another replica (or this one) added. */
  added(record: RevocationRecord): void;
  /** The feed was interrupted and is back: reload everything (messages may have been missed). */
  resync(): void;
  /** Whether the feed is currently connected. */
  connected(up: boolean): void;
}

export interface RevocationStore {
  /** Every record that has not expired at `nowMs`. */
  load(nowMs: number): Promise<RevocationRecord[]>;
  /** Stores a record durably (and tells the other replicas) before resolving. */
  add(record: RevocationRecord): Promise<void>;
  /** True for exactly one caller per key until `expiresAtMs` (logout-token `jti` replay check). */
  claimOnce(key: string, expiresAtMs: number): Promise<boolean>;
  /** Live feed of records added elsewhere; a single-process store has none and returns undefined. */
  subscribe(listener: RevocationListener): Promise<void> | undefined;
  close(): Promise<void>;
}

export async function guardRevocationStore<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isGatewayError(error)) throw error;
    throw new GatewayError('TG_ERR_REVOCATION_UNAVAILABLE', `The session revocation list failed during ${operation}.`, { cause: error });
  }
}
