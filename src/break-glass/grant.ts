// A break-glass grant: one user's time-boxed emergency access to one route from one device, with the
// reason they gave. Shared by both grant stores, which parse what they read back through `grantSchema`.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export interface Grant {
  /** Random, url-safe (base64url of 18 bytes): it may appear in admin URLs and audit lines. */
  id: string;
  /** The signed-in user's email. */
  user: string;
  /** The IdP subject, kept because emails can be reassigned. */
  sub: string;
  /** Opaque device identity, e.g. a Fleet host uuid or `email:<email>` when no device was identified. */
  deviceKey: string;
  /** Route name or route group the grant opens. */
  route: string;
  reason: string;
  createdAtMs: number;
  expiresAtMs: number;
  durationMs: number;
  requestId: string;
  sourceAddress: string;
  revokedAtMs?: number;
  revokedBy?: string;
  /** When the grant first let a request through (the `.first-use` audit event is written once). */
  firstUsedAtMs?: number;
}

/** The triple a grant is looked up by on each request. */
export interface GrantKey {
  user: string;
  deviceKey: string;
  route: string;
}

export type NewGrantInput = Omit<Grant, 'id' | 'createdAtMs' | 'expiresAtMs' | 'revokedAtMs' | 'revokedBy' | 'firstUsedAtMs'>;

const ID_BYTES = 18;

export function newGrantId(): string {
  return randomBytes(ID_BYTES).toString('base64url');
}

/** Builds a fresh grant that starts now and ends `durationMs` later. */
export function createGrant(input: NewGrantInput, nowMs: number): Grant {
  return { ...input, id: newGrantId(), createdAtMs: nowMs, expiresAtMs: nowMs + input.durationMs };
}

/** Active = not revoked and not yet expired (the expiry instant itself is already outside the box). */
export function isActive(grant: Grant, nowMs: number): boolean {
  return grant.revokedAtMs === undefined && nowMs < grant.expiresAtMs;
}

export function matchesKey(grant: Grant, key: GrantKey): boolean {
  return grant.user === key.user && grant.deviceKey === key.deviceKey && grant.route === key.route;
}

/** Newest first; equal creation times fall back to the id so both stores agree on one order. */
export function newestFirst(a: Grant, b: Grant): number {
  if (a.createdAtMs !== b.createdAtMs) return b.createdAtMs - a.createdAtMs;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

const epochMs = z.number().int().nonnegative();

export const grantSchema = z.object({
  id: z.string().min(16),
  user: z.string(),
  sub: z.string(),
  deviceKey: z.string(),
  route: z.string(),
  reason: z.string(),
  createdAtMs: epochMs,
  expiresAtMs: epochMs,
  durationMs: epochMs,
  requestId: z.string(),
  sourceAddress: z.string(),
  revokedAtMs: epochMs.optional(),
  revokedBy: z.string().optional(),
  firstUsedAtMs: epochMs.optional(),
});

/** Drops absent optional fields so stored and returned grants compare equal with toEqual. */
export function cleanGrant(grant: Grant): Grant {
  const copy: Grant = { ...grant };
  if (copy.revokedAtMs === undefined) delete copy.revokedAtMs;
  if (copy.revokedBy === undefined) delete copy.revokedBy;
  if (copy.firstUsedAtMs === undefined) delete copy.firstUsedAtMs;
  return copy;
}
