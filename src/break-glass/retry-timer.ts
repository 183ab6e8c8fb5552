// One pending retry at a time, with doubling backoff: the timer a reliable audit sink waits on after a
// failed delivery. It never keeps the process alive (close() spools whatever is left).
export interface RetryTimer {
  /** Schedules `run` after the backoff for the `failures`-th consecutive failure, replacing any pending one. */
  schedule(failures: number, run: () => void): number;
  clear(): void;
  isPending(): boolean;
  nextAtMs(): number | undefined;
}

export function createRetryTimer(options: { retryBaseMs: number; maxRetryMs: number; now: () => number }): RetryTimer {
  let timer: NodeJS.Timeout | undefined;
  let nextAtMs: number | undefined;
  const clear = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    nextAtMs = undefined;
  };
  return {
    schedule(failures, run) {
      const delayMs = Math.min(options.maxRetryMs, options.retryBaseMs * 2 ** (failures - 1));
      clear();
      nextAtMs = options.now() + delayMs;
      timer = setTimeout(() => {
        timer = undefined;
        run();
      }, delayMs);
      timer.unref();
      return delayMs;
    },
    clear,
    isPending: () => timer !== undefined,
    nextAtMs: () => nextAtMs,
  };
}
