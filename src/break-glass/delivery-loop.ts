// The in-order delivery of a reliable audit sink's queue: one pass at a time delivers from the head until
// the queue is empty or a delivery fails; a failure starts spooling and schedules the next pass.
import type { Logger } from 'pino';
import type { AuditSink } from './audit-sinks.ts';
import type { AuditSpool, SpoolEntry } from './audit-spool.ts';
import type { RetryTimer } from './retry-timer.ts';

/** What the sink and its delivery loop share. */
export interface DeliveryState {
  readonly sink: AuditSink;
  readonly queue: SpoolEntry[];
  readonly spool: AuditSpool;
  readonly timer: RetryTimer;
  readonly log: Logger | undefined;
  spooling: boolean;
  closed: boolean;
  failures: number;
  lastError: string | undefined;
  running: Promise<void> | undefined;
}

function onFailure(state: DeliveryState, error: unknown): void {
  state.failures += 1;
  state.lastError = error instanceof Error ? error.message : String(error);
  if (!state.spooling) {
    state.spooling = true;
    void state.spool.append();
  }
  if (state.closed) return;
  const retryInMs = state.timer.schedule(state.failures, () => void runDelivery(state));
  state.log?.warn({ err: error, pending: state.queue.length, retryInMs }, 'audit sink delivery failed; spooled for retry');
}

/** Delivers from the head in order until the queue is empty or a delivery fails. */
async function deliverFromHead(state: DeliveryState): Promise<void> {
  let delivered = 0;
  while (state.queue.length > 0 && !state.closed) {
    const head = state.queue[0] as SpoolEntry;
    try {
      await state.sink.deliver(head.event);
    } catch (error) {
      onFailure(state, error);
      break;
    }
    state.queue.shift();
    delivered += 1;
    state.failures = 0;
    state.lastError = undefined;
  }
  if (state.queue.length === 0 && state.spooling) {
    state.spooling = false;
    state.log?.info({ delivered }, 'audit sink caught up; spool drained');
  }
  // Dropping delivered events from the file keeps a crash from sending them again.
  if (delivered > 0 && state.spool.hasFileEntries()) void state.spool.compact();
}

/** Starts a pass now (backoff cancelled), or joins the one under way. */
export function runDelivery(state: DeliveryState): Promise<void> {
  if (state.running) return state.running;
  state.timer.clear();
  state.running = deliverFromHead(state).finally(() => {
    state.running = undefined;
    // An event queued while the last pass was finishing would otherwise wait for the next one.
    if (state.queue.length > 0 && !state.timer.isPending() && !state.closed) void runDelivery(state);
  });
  return state.running;
}

/** Passes until the queue is empty or a delivery fails; resolves once the spool file is written. */
export async function deliverAll(state: DeliveryState): Promise<void> {
  state.timer.clear();
  // A pass already under way finishes first; then fresh passes run regardless of its outcome.
  await state.running;
  state.timer.clear();
  for (;;) {
    await runDelivery(state);
    if (state.queue.length === 0 || state.failures > 0 || state.closed) break;
  }
  await state.spool.idle();
}
