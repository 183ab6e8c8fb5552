// The gateway's audit events (break glass and session revocations): their shape, the schema a spool is
// re-read through, and the one-line human summary that webhooks (Slack-compatible `text`) show.
import { z } from 'zod';
import { formatDuration } from '../config/format-duration.ts';

export const AUDIT_EVENT_NAMES = [
  'break-glass.requested',
  'break-glass.granted',
  'break-glass.denied',
  'break-glass.first-use',
  'break-glass.expired',
  'break-glass.revoked',
  /** The user signed out (their own session). */
  'session.signed-out',
  /** An admin signed a user out everywhere ("sign this user out"). */
  'session.signed-out-by-admin',
  /** The IdP ended an IdP session (sid) or a user's sessions (sub) through back-channel logout. */
  'session.backchannel-logout',
] as const;

export type AuditEventName = (typeof AUDIT_EVENT_NAMES)[number];

export const auditEventSchema = z.object({
  /** Random per event: receivers (and Elasticsearch, which uses it as the document id) can drop redeliveries. */
  id: z.string(),
  event: z.enum(AUDIT_EVENT_NAMES),
  /** ISO 8601. */
  time: z.string(),
  /** Whose access it is about (e-mail, else subject). */
  user: z.string(),
  /** Break glass only: the device key and the route (or route group). */
  device: z.string().optional(),
  route: z.string().optional(),
  /** Session events: the subject, the IdP session id (`sid`) and our session id that were revoked. */
  sub: z.string().optional(),
  sid: z.string().optional(),
  sessionId: z.string().optional(),
  reason: z.string().optional(),
  durationMs: z.number().optional(),
  sourceAddress: z.string().optional(),
  requestId: z.string().optional(),
  grantId: z.string().optional(),
  /** Who acted: the admin who revoked, the user who signed out, `idp` (back-channel), `system` (expiry). */
  by: z.string().optional(),
  /** Free text, e.g. why a request was denied. */
  detail: z.string().optional(),
});

export type AuditEvent = z.infer<typeof auditEventSchema>;

/** What callers pass to record(): id and time are filled in when absent. */
export type AuditEventInput = Omit<AuditEvent, 'id' | 'time'> & { id?: string; time?: string };

const REASON_LIMIT = 200;

// Slack reads `<...>` as links and mentions (`<!channel>`) and `&` as an entity: user-typed text
// must not be able to ping a channel. Newlines are folded so the summary stays one line.
export function escapeForSlack(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string): string {
  return text.length > REASON_LIMIT ? `${text.slice(0, REASON_LIMIT - 1)}…` : text;
}

/** One line a human can act on, e.g. in a Slack channel. */
export function summarizeAuditEvent(event: AuditEvent): string {
  const who = event.user;
  const route = event.route ?? '-';
  const where = `${route} from device ${event.device ?? '-'}`;
  const by = event.by ? ` by ${event.by}` : '';
  const sid = event.sid === undefined ? '' : ` (IdP session ${event.sid})`;
  const forHow = event.durationMs === undefined ? '' : ` for ${formatDuration(event.durationMs)}`;
  const reason = event.reason === undefined ? '' : ` — reason: "${clip(event.reason)}"`;
  const grant = event.grantId === undefined ? '' : ` (grant ${event.grantId})`;
  const detail = event.detail === undefined ? '' : `: ${event.detail}`;
  const lines: Record<AuditEventName, string> = {
    'break-glass.requested': `Break glass requested by ${who} for ${where}${forHow}${reason}`,
    'break-glass.granted': `Break glass GRANTED to ${who} for ${where}${forHow}${grant}${reason}`,
    'break-glass.denied': `Break glass denied to ${who} for ${where}${detail}`,
    'break-glass.first-use': `Break glass first used by ${who} on ${where}${grant}`,
    'break-glass.expired': `Break glass expired for ${who} on ${route}${grant}`,
    'break-glass.revoked': `Break glass revoked for ${who} on ${route}${grant}${by}`,
    'session.signed-out': `${who} signed out`,
    'session.signed-out-by-admin': `Every session of ${who} ended${by}`,
    'session.backchannel-logout': `Sessions of ${who}${sid} ended by the identity provider (back-channel logout)`,
  };
  return escapeForSlack(lines[event.event]);
}
