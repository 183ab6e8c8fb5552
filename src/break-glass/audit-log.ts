// The break-glass audit log: record() resolves once the authoritative file sink has the event durably
// and it is queued for the optional sinks, which never block or fail the request.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import type { AuditEvent, AuditEventInput } from './audit-event.ts';
import type { AuditSink } from './audit-sinks.ts';
import type { ReliableSink } from './reliable-sink.ts';

export interface AuditLogDeps {
  sinks: {
    /** Authoritative and awaited (createFileAuditSink): if it fails, record() fails. */
    file: AuditSink;
    /** Optional destinations, each wrapped by createReliableSink. */
    others?: ReliableSink[];
  };
  log: Logger;
  now?: () => number;
}

export interface AuditLog {
  /**
   * Fills in id and time, writes the event to the file sink (fsync'd) and queues it for the others.
   * Rejects with TG_ERR_AUDIT_UNAVAILABLE when the file sink fails: callers must then refuse the
   * break-glass action, since an unaudited grant is exactly what the log exists to prevent.
   */
  record(input: AuditEventInput): Promise<AuditEvent>;
  /** Delivers what the optional sinks still hold; resolves with the total still pending. */
  flush(): Promise<number>;
  close(): Promise<void>;
}

export function createAuditLog(deps: AuditLogDeps): AuditLog {
  const now = deps.now ?? Date.now;
  const others = deps.sinks.others ?? [];
  let closed = false;

  async function record(input: AuditEventInput): Promise<AuditEvent> {
    if (closed) throw new GatewayError('TG_ERR_AUDIT_UNAVAILABLE', 'Audit log is closed');
    const event: AuditEvent = { ...input, id: input.id ?? randomUUID(), time: input.time ?? new Date(now()).toISOString() };
    try {
      await deps.sinks.file.deliver(event);
    } catch (error) {
      deps.log.error({ err: error, audit: event }, 'audit file write failed');
      throw new GatewayError('TG_ERR_AUDIT_UNAVAILABLE', 'Audit log cannot be written', { cause: error });
    }
    // The operational log gets a copy too: rare, security-relevant, and handy when grepping logs.
    deps.log.info({ audit: event }, event.event);
    for (const sink of others) sink.enqueue(event);
    return event;
  }

  return {
    record,
    async flush() {
      const pending = await Promise.all(others.map((sink) => sink.flush()));
      return pending.reduce((sum, count) => sum + count, 0);
    },
    async close() {
      closed = true;
      for (const sink of others) await sink.close();
      await deps.sinks.file.close();
    },
  };
}
