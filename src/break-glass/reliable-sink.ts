// Wraps an optional audit sink (Elasticsearch, webhook) so an outage loses nothing: failed deliveries
// go to an fsync'd spool file (audit-spool.ts), are retried in order with backoff in the background
// (delivery-loop.ts, retry-timer.ts), and survive restarts.
import type { Logger } from 'pino';
import type { AuditEvent } from './audit-event.ts';
import type { AuditSink } from './audit-sinks.ts';
import { createAuditSpool, readSpool } from './audit-spool.ts';
import type { SpoolEntry } from './audit-spool.ts';
import { deliverAll, runDelivery, type DeliveryState } from './delivery-loop.ts';
import { createRetryTimer } from './retry-timer.ts';

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
  const log = options.log?.child({ auditSink: sink.name });
  const queue: SpoolEntry[] = (await readSpool(options.spoolFile, log)).map((event, index) => ({ seq: index + 1, event }));
  let nextSeq = queue.length + 1;
  const view = { queue: () => queue, spooling: () => state.spooling };
  const state: DeliveryState = {
    sink,
    queue,
    spool: createAuditSpool(options.spoolFile, view, queue, log),
    timer: createRetryTimer({ retryBaseMs: options.retryBaseMs, maxRetryMs: options.maxRetryMs, now: options.now ?? Date.now }),
    log,
    spooling: queue.length > 0,
    closed: false,
    failures: 0,
    lastError: undefined,
    running: undefined,
  };
  if (queue.length > 0) void runDelivery(state);
  return {
    name: sink.name,
    enqueue: (event) => enqueue(state, { seq: nextSeq++, event }),
    flush: async () => {
      await deliverAll(state);
      return queue.length;
    },
    pending: () => queue.length,
    status: () => statusOf(state),
    close: () => close(state),
  };
}

function enqueue(state: DeliveryState, entry: SpoolEntry): void {
  if (state.closed) {
    state.log?.error({ auditEvent: entry.event.id }, 'audit event queued after close; not delivered to this sink');
    return;
  }
  state.queue.push(entry);
  if (state.spooling) void state.spool.append();
  // While spooling, new events wait behind the failed one for the scheduled retry.
  if (!state.running && !state.timer.isPending()) void runDelivery(state);
}

function statusOf(state: DeliveryState): ReliableSinkStatus {
  const nextRetryAtMs = state.timer.nextAtMs();
  return {
    pending: state.queue.length,
    spooling: state.spooling,
    consecutiveFailures: state.failures,
    ...(nextRetryAtMs === undefined ? {} : { nextRetryAtMs }),
    ...(state.lastError === undefined ? {} : { lastError: state.lastError }),
  };
}

async function close(state: DeliveryState): Promise<void> {
  state.closed = true;
  state.timer.clear();
  await state.running;
  if (state.queue.length > 0) state.spooling = true;
  await state.spool.append();
  await state.spool.compact();
  await state.spool.close();
  await state.sink.close();
}
