// What a revocation list holds: one session (by our session id), one IdP session (by the ID token's
// `sid`, for back-channel logout), or every session of a user started before a time (by `sub` or e-mail).
// Each record carries when it may be forgotten: once every session it could match has expired anyway,
// and who made it when (`by`, `atMs`, `user`), so every replica can show recent revocations; the full
// story (request id, source address) is in the audit trail.
import { z } from 'zod';

const made = {
  /** Who revoked: the admin's e-mail, the user themselves (sign-out), or `idp` (back-channel logout). */
  by: z.string().optional(),
  atMs: z.number().optional(),
  /** Whose session it was, for a record keyed by a session id (e-mail or subject). */
  user: z.string().optional(),
};

export const revocationRecordSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('session'), id: z.string().min(1), expiresAtMs: z.number(), ...made }),
  z.object({ kind: z.literal('idp-session'), sid: z.string().min(1), expiresAtMs: z.number(), ...made }),
  z.object({ kind: z.literal('user'), sub: z.string().min(1), beforeMs: z.number(), expiresAtMs: z.number(), ...made }),
  z.object({ kind: z.literal('email'), email: z.string().min(1), beforeMs: z.number(), expiresAtMs: z.number(), ...made }),
]);

/** Who revoked, for the record and the audit trail. */
export interface RevokedBy {
  by: string;
  user?: string | undefined;
}

export type RevocationRecord = z.infer<typeof revocationRecordSchema>;

/** What a record is about, for de-duplication: a later record for the same key supersedes an earlier one. */
export function recordKey(record: RevocationRecord): string {
  switch (record.kind) {
    case 'session':
      return `session:${record.id}`;
    case 'idp-session':
      return `idp-session:${record.sid}`;
    case 'user':
      return `user:${record.sub}`;
    case 'email':
      return `email:${record.email}`;
  }
}

/** Of two records for one key, the one that revokes more: the later cut-off, the later expiry; who and when from the later one. */
export function mergeRecords(a: RevocationRecord, b: RevocationRecord): RevocationRecord {
  const expiresAtMs = Math.max(a.expiresAtMs, b.expiresAtMs);
  const later = (b.atMs ?? 0) >= (a.atMs ?? 0) ? b : a;
  if ((a.kind === 'user' || a.kind === 'email') && (b.kind === 'user' || b.kind === 'email')) {
    return { ...later, beforeMs: Math.max(a.beforeMs, b.beforeMs), expiresAtMs } as RevocationRecord;
  }
  return { ...later, expiresAtMs };
}
