// What a revocation list holds: one session (by our session id), one IdP session (by the ID token's
// `sid`, for back-channel logout), or every session of a user started before a time (by `sub` or e-mail).
// Each record carries when it may be forgotten: once every session it could match has expired anyway.
import { z } from 'zod';

export const revocationRecordSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('session'), id: z.string().min(1), expiresAtMs: z.number() }),
  z.object({ kind: z.literal('idp-session'), sid: z.string().min(1), expiresAtMs: z.number() }),
  z.object({ kind: z.literal('user'), sub: z.string().min(1), beforeMs: z.number(), expiresAtMs: z.number() }),
  z.object({ kind: z.literal('email'), email: z.string().min(1), beforeMs: z.number(), expiresAtMs: z.number() }),
]);

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

/** Of two records for one key, the one that revokes more: the later cut-off, the later expiry. */
export function mergeRecords(a: RevocationRecord, b: RevocationRecord): RevocationRecord {
  const expiresAtMs = Math.max(a.expiresAtMs, b.expiresAtMs);
  if ((a.kind === 'user' || a.kind === 'email') && (b.kind === 'user' || b.kind === 'email')) {
    return { ...a, beforeMs: Math.max(a.beforeMs, b.beforeMs), expiresAtMs } as RevocationRecord;
  }
  return { ...a, expiresAtMs };
}
