// Wraps an optional audit sink (Elasticsearch, webhook) so an outage loses nothing: failed deliveries
// go to an fsync'd spool file, are retried in order with backoff in the background, and survive restarts.
import type { Logger } from 'pino';
import type { AuditEvent } from './audit-event.ts';
import type { AuditSink } from './audit-sinks.ts';
import { createAuditSpool, readSpool } from './audit-spool.ts';
import type { SpoolEntry } from './audit-spool.ts';

export interface ReliableSinkOptions {
  spoolFile: string;
  /** First retry delay; each further failure doubles it up to maxRetryMs. */
  retryBaseMs: number;
  maxRetryMs: number;
  now?: () => number;
  log?: Logger;
}

export interface ReliableSinkStatus {
  pending: number;
  /** True while events are being kept in the spool file (the sink failed and has not caught up). */
  spooling: boolean;
  consecutiveFailures: number;
  nextRetryAtMs?: number;
  lastError?: string;
}

export interface ReliableSink {
  readonly name: string;
  /** Queues the event behind every earlier one; never throws and never waits for the destination. */
  enqueue(event: AuditEvent): void;
  /** Tries to deliver everything now (backoff ignored); resolves with how many are still pending. */
  flush(): Promise<number>;
  pending(): number;
  status(): ReliableSinkStatus;
  /** Stops retrying and spools whatever is still queued, so the next start delivers it. */
  close(): Promise<void>;
}

export async function createReliableSink(sink: AuditSink, options: ReliableSinkOptions): Promise<ReliableSink> {
  const now = options.now ?? Date.now;
  const log = options.log?.child({ auditSink: sink.name });
  const queue: SpoolEntry[] = (await readSpool(options.spoolFile, log)).map((event, index) => ({ seq: index + 1, event }));
  let nextSeq = queue.length + 1;
  let spooling = queue.length > 0;
  const spool = createAuditSpool(options.spoolFile, { queue: () => queue, spooling: () => spooling }, queue, log);
  let failures = 0;
  let lastError: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let nextRetryAtMs: number | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  function clearTimer(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    nextRetryAtMs = undefined;
  }

  function onFailure(error: unknown): void {
    failures += 1;
    lastError = error instanceof Error ? error.message : String(error);
    if (!spooling) {
      spooling = true;
      void spool.append();
    }
    if (closed) return;
    const delay = Math.min(options.maxRetryMs, options.retryBaseMs * 2 ** (failures - 1));
    clearTimer();
    nextRetryAtMs = now() + delay;
    timer = setTimeout(() => {
      timer = undefined;
      void runPump();
    }, delay);
    // A pending retry must not keep the process alive at shutdown; close() spools what is left.
    timer.unref();
    log?.warn({ err: error, pending: queue.length, retryInMs: delay }, 'audit sink delivery failed; spooled for retry');
  }

  /** Delivers from the head in order until the queue is empty or a delivery fails. */
  async function pump(): Promise<void> {
    let delivered = 0;
    while (queue.length > 0 && !closed) {
      const head = queue[0] as SpoolEntry;
      try {
        await sink.deliver(head.event);
      } catch (error) {
        onFailure(error);
        break;
      }
      queue.shift();
      delivered += 1;
      failures = 0;
      lastError = undefined;
    }
    if (queue.length === 0 && spooling) {
      spooling = false;
      log?.info({ delivered }, 'audit sink caught up; spool drained');
    }
    // Dropping delivered events from the file keeps a crash from sending them again.
    if (delivered > 0 && spool.hasFileEntries()) void spool.compact();
  }

  function runPump(): Promise<void> {
    if (running) return running;
    clearTimer();
    running = pump().finally(() => {
      running = undefined;
      // An event queued while the last pass was finishing would otherwise wait for the next one.
      if (queue.length > 0 && timer === undefined && !closed) void runPump();
    });
    return running;
  }

  if (queue.length > 0) void runPump();

  return {
    name: sink.name,
    enqueue(event) {
      if (closed) {
        log?.error({ auditEvent: event.id }, 'audit event queued after close; not delivered to this sink');
        return;
      }
      queue.push({ seq: nextSeq++, event });
      if (spooling) void spool.append();
      // While spooling, new events wait behind the failed one for the scheduled retry.
      if (!running && timer === undefined) void runPump();
    },
    async flush() {
      clearTimer();
      // A pass already under way finishes first; then fresh passes run regardless of its outcome.
      await running;
      clearTimer();
      for (;;) {
        await runPump();
        if (queue.length === 0 || failures > 0 || closed) break;
      }
      await spool.idle();
      return queue.length;
    },
    pending: () => queue.length,
    status: () => ({
      pending: queue.length,
      spooling,
      consecutiveFailures: failures,
      ...(nextRetryAtMs === undefined ? {} : { nextRetryAtMs }),
      ...(lastError === undefined ? {} : { lastError }),
    }),
    async close() {
      closed = true;
      clearTimer();
      await running;
      if (queue.length > 0) spooling = true;
      await spool.append();
      await spool.compact();
      await spool.close();
      await sink.close();
    },
  };
}
