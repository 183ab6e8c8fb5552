// The spool file behind a reliable audit sink: which queued events are on disk, appending the missing
// ones while the sink is failing, and rewriting the file without the ones delivered since.
import type { Logger } from 'pino';
import { auditEventSchema } from './audit-event.ts';
import type { AuditEvent } from './audit-event.ts';
import { openJsonLinesFile, readJsonLines } from './json-lines-file.ts';
import { createSerialQueue } from './serial-queue.ts';

export interface SpoolEntry {
  seq: number;
  event: AuditEvent;
}

/** The sink's live state, read when a spool operation runs (never a snapshot taken when it was asked for). */
export interface SpoolView {
  queue: () => readonly SpoolEntry[];
  /** While true every queued event belongs in the file; otherwise only those already there. */
  spooling: () => boolean;
}

export interface AuditSpool {
  /** Appends queued events not yet in the file (only while spooling). Logs, never throws. */
  append(): Promise<void>;
  /** Rewrites the file as exactly the undelivered events that belong there. Logs, never throws. */
  compact(): Promise<void>;
  /** Whether the file still holds events (delivered or not). */
  hasFileEntries(): boolean;
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Spool lines that no longer parse are dropped with an error log rather than blocking the queue forever. */
export async function readSpool(file: string, log: Logger | undefined): Promise<AuditEvent[]> {
  const read = await readJsonLines(file);
  const events: AuditEvent[] = [];
  for (const value of read.values) {
    const parsed = auditEventSchema.safeParse(value);
    if (parsed.success) events.push(parsed.data);
    else log?.error({ file }, 'audit spool: unreadable event dropped');
  }
  if (read.tornTail) log?.warn({ file }, 'audit spool: torn last line skipped (crash mid-write)');
  return events;
}

/** `initial` are the entries readSpool found: they are in the file already. */
export function createAuditSpool(file: string, view: SpoolView, initial: readonly SpoolEntry[], log: Logger | undefined): AuditSpool {
  const spool = openJsonLinesFile(file);
  // One operation at a time, each reading the queue when it runs: events delivered meanwhile are
  // left out, events queued meanwhile are included, and `inFile` always matches the file.
  const ops = createSerialQueue();
  let inFile: number[] = initial.map((entry) => entry.seq);

  const report = (message: string) => (error: unknown) => log?.error({ err: error }, message);

  return {
    append: () =>
      ops
        .run(async () => {
          if (!view.spooling()) return;
          const written = new Set(inFile);
          const missing = view.queue().filter((entry) => !written.has(entry.seq));
          if (missing.length === 0) return;
          await spool.append(missing.map((entry) => entry.event));
          inFile = inFile.concat(missing.map((entry) => entry.seq));
        })
        .catch(report('audit spool append failed; events kept in memory only')),
    compact: () =>
      ops
        .run(async () => {
          const written = new Set(inFile);
          const keep = view.queue().filter((entry) => view.spooling() || written.has(entry.seq));
          if (keep.length === inFile.length && keep.every((entry, index) => entry.seq === inFile[index])) return;
          await spool.replace(keep.map((entry) => entry.event));
          inFile = keep.map((entry) => entry.seq);
        })
        .catch(report('audit spool rewrite failed; delivered events may be sent again')),
    hasFileEntries: () => inFile.length > 0,
    idle: () => ops.idle(),
    close: () => ops.run(() => spool.close()),
  };
}
