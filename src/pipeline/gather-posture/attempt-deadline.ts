// A restartable timeout signal: one per Fleet call, covering each attempt (queueing behind busy
// connections included) but not the backoff between attempts.
export interface AttemptDeadline {
  readonly signal: AbortSignal;
  /** Stops the clock (before a backoff sleep). */
  pause(): void;
  /** Gives the next attempt a full `timeoutMs`. */
  restart(): void;
  /** The call is over: no timer left behind. */
  clear(): void;
}

export function createAttemptDeadline(timeoutMs: number): AttemptDeadline {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const restart = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new DOMException('The operation timed out.', 'TimeoutError')), timeoutMs);
    timer.unref();
  };
  const pause = (): void => clearTimeout(timer);
  restart();
  return { signal: controller.signal, pause, restart, clear: pause };
}
