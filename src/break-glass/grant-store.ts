// The storage contract for break-glass grants, met by the embedded file store (one process) and the
// Redis store (several replicas). Failures surface as GatewayError TG_ERR_STORE_UNAVAILABLE.
import { GatewayError, isGatewayError } from '../errors.ts';
import type { Grant, GrantKey } from './grant.ts';

export interface ListOptions {
  /** Only grants that are neither revoked nor expired at `nowMs`. */
  activeOnly?: boolean;
  limit: number;
}

export interface GrantStore {
  /** Stores a new grant durably before resolving; an id that already exists is refused. */
  create(grant: Grant): Promise<void>;
  get(id: string): Promise<Grant | undefined>;
  /** The newest grant for exactly this (user, deviceKey, route) that is active at `nowMs`. */
  findActive(key: GrantKey, nowMs: number): Promise<Grant | undefined>;
  /** Grants this user created at or after `sinceMs` (revoked and expired ones count too): the rate limit. */
  countCreatedSince(user: string, sinceMs: number): Promise<number>;
  /**
   * Revokes a grant; undefined when the id is unknown. Revoking twice keeps the first revocation
   * (the returned grant then carries the original revokedAtMs/revokedBy).
   */
  revoke(id: string, by: string, nowMs: number): Promise<Grant | undefined>;
  /** True for exactly one caller across every replica sharing the store; false afterwards or for unknown ids. */
  markFirstUse(id: string, nowMs: number): Promise<boolean>;
  /** Newest first, at most `limit`; the retention window decides how far back expired grants go. */
  list(options: ListOptions, nowMs: number): Promise<Grant[]>;
  close(): Promise<void>;
}

/** How long revoked/expired grants stay visible to list() and get() (the admin view and audits). */
export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** Wraps backend failures (disk, Redis) into the one code callers match on, keeping the cause. */
export function storeUnavailable(cause: unknown, operation: string): GatewayError {
  if (isGatewayError(cause)) return cause;
  return new GatewayError('TG_ERR_STORE_UNAVAILABLE', `Break-glass grant store failed during ${operation}`, { cause });
}

export async function guardStore<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw storeUnavailable(error, operation);
  }
}
