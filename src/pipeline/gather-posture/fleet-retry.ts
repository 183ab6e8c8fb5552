// When and how long to wait before undici's retry interceptor sends a Fleet GET again: 5xx, 429 and
// connection errors are retried with jittered exponential backoff (or Fleet's Retry-After, capped);
// timeouts and every other answer go straight back to the caller.
import type { RetryHandler } from 'undici';

export interface FleetRetryOptions {
  retries: number;
  retryBaseDelayMs: number;
  /** Cap on waiting for a `retry-after`; Fleet's login limiter asks for up to minutes. */
  maxRetryAfterMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

/** Hooks around the wait between attempts: the per-attempt deadline does not run while we sleep. */
export interface RetryPause {
  beforeSleep(): void;
  afterSleep(): void;
}

export const TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const MAX_BACKOFF_MS = 2_000;

interface RetryableError {
  statusCode?: number;
  code?: unknown;
  name?: string;
  headers?: Record<string, string | string[] | undefined>;
}

export function retryAfterMsOf(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim()) * 1000;
}

function isRetryable(error: RetryableError): boolean {
  if (typeof error.statusCode === 'number') return error.statusCode === 429 || (error.statusCode >= 500 && error.statusCode <= 599);
  // ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, ENOTFOUND, UND_ERR_CLOSED…: Fleet could not be reached.
  const code = typeof error.code === 'string' ? error.code : '';
  return !TIMEOUT_CODES.has(code) && error.name !== 'TimeoutError' && error.name !== 'AbortError';
}

function delayBeforeRetryMs(options: FleetRetryOptions, error: RetryableError, attemptIndex: number): number {
  const exponential = Math.min(MAX_BACKOFF_MS, options.retryBaseDelayMs * 2 ** attemptIndex);
  // "Equal jitter": half fixed, half random, so retries from many gateways do not align.
  const jittered = exponential / 2 + (options.random() * exponential) / 2;
  const retryAfterMs = typeof error.statusCode === 'number' ? retryAfterMsOf(error.headers?.['retry-after']) : undefined;
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, Math.min(retryAfterMs, options.maxRetryAfterMs));
}

/** The `retry` callback of undici's RetryHandler for one request. */
export function fleetRetry(options: FleetRetryOptions, pause: RetryPause): RetryHandler.RetryCallback {
  return (error, { state }, done) => {
    // undici counts the attempt that just failed: 1 after the first one.
    const attemptIndex = state.counter - 1;
    const failure = error as RetryableError;
    if (attemptIndex >= options.retries || !isRetryable(failure)) return done(error);
    pause.beforeSleep();
    options.sleep(delayBeforeRetryMs(options, failure, attemptIndex)).then(
      () => {
        pause.afterSleep();
        done(null);
      },
      (sleepError: unknown) => done(sleepError instanceof Error ? sleepError : error),
    );
  };
}
