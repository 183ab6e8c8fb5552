// Break-glass audit events: their shape, the schema a spool is re-read through, and the one-line
// human summary that webhooks (Slack-compatible `text`) show.
import { z } from 'zod';

export const AUDIT_EVENT_NAMES = [
  'break-glass.requested',
  'break-glass.granted',
  'break-glass.denied',
  'break-glass.first-use',
  'break-glass.expired',
  'break-glass.revoked',
] as const;

export type AuditEventName = (typeof AUDIT_EVENT_NAMES)[number];

export const auditEventSchema = z.object({
  /** Random per event: receivers (and Elasticsearch, which uses it as the document id) can drop redeliveries. */
  id: z.string(),
  event: z.enum(AUDIT_EVENT_NAMES),
  /** ISO 8601. */
  time: z.string(),
  user: z.string(),
  device: z.string(),
  route: z.string(),
  reason: z.string().optional(),
  durationMs: z.number().optional(),
  sourceAddress: z.string().optional(),
  requestId: z.string().optional(),
  grantId: z.string().optional(),
  /** Who acted for the user (the admin who revoked, or `system` for expiry). */
  by: z.string().optional(),
  /** Free text, e.g. why a request was denied. */
  detail: z.string().optional(),
});

export type AuditEvent = z.infer<typeof auditEventSchema>;

/** What callers pass to record(): id and time are filled in when absent. */
export type AuditEventInput = Omit<AuditEvent, 'id' | 'time'> & { id?: string; time?: string };

const REASON_LIMIT = 200;

export function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours}h` : `${hours}h${rest}m`;
}

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
  const where = `${event.route} from device ${event.device}`;
  const forHow = event.durationMs === undefined ? '' : ` for ${formatDuration(event.durationMs)}`;
  const reason = event.reason === undefined ? '' : ` — reason: "${clip(event.reason)}"`;
  const grant = event.grantId === undefined ? '' : ` (grant ${event.grantId})`;
  const detail = event.detail === undefined ? '' : `: ${event.detail}`;
  const lines: Record<AuditEventName, string> = {
    'break-glass.requested': `Break glass requested by ${who} for ${where}${forHow}${reason}`,
    'break-glass.granted': `Break glass GRANTED to ${who} for ${where}${forHow}${grant}${reason}`,
    'break-glass.denied': `Break glass denied to ${who} for ${where}${detail}`,
    'break-glass.first-use': `Break glass first used by ${who} on ${where}${grant}`,
    'break-glass.expired': `Break glass expired for ${who} on ${event.route}${grant}`,
    'break-glass.revoked': `Break glass revoked for ${who} on ${event.route}${grant}${event.by ? ` by ${event.by}` : ''}`,
  };
  return escapeForSlack(lines[event.event]);
}
