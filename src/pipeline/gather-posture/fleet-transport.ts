// HTTP transport to Fleet: one keep-alive undici Pool, per-attempt timeouts, undici's retry
// interceptor (policy in fleet-retry.ts) for idempotent GETs, and the boundary where undici errors
// become GatewayErrors.
import { Pool, interceptors } from 'undici';
import type { Dispatcher, RetryHandler } from 'undici';
import { GatewayError } from '../../errors.ts';
import { createAttemptDeadline } from './attempt-deadline.ts';
import { parseFleetError } from './fleet-schemas.ts';
import { fleetRetry, retryAfterMsOf, TIMEOUT_CODES } from './fleet-retry.ts';
import type { FleetRetryOptions } from './fleet-retry.ts';

export interface FleetTransportOptions extends FleetRetryOptions {
  baseUrl: string;
  apiToken: string;
  /** Per attempt: connect + headers + body, including time queued behind busy connections. */
  timeoutMs: number;
  /** Pool size: Fleet has no general rate limit, so the gateway must bound its own load. */
  maxConcurrency: number;
}

export interface FleetTransport {
  /** GET `path` (relative to /api/v1/fleet), retried on 5xx/429/connection errors. */
  get(path: string): Promise<unknown>;
  /** POST `path` once: non-idempotent calls are never retried. */
  post(path: string): Promise<unknown>;
  close(): Promise<void>;
}

function errorCodeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** Turns anything undici throws into a GatewayError; the undici error itself never leaves. */
function mapTransportError(error: unknown, signal: AbortSignal): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = errorCodeOf(error);
  const reason = code || (error instanceof Error ? error.name : 'unknown');
  if (TIMEOUT_CODES.has(code) || (signal.aborted && (signal.reason as Error | undefined)?.name === 'TimeoutError')) {
    return new GatewayError('TG_ERR_FLEET_TIMEOUT', 'Fleet did not answer in time', { details: { reason } });
  }
  // ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, ENOTFOUND, UND_ERR_CLOSED…: Fleet cannot be reached.
  return new GatewayError('TG_ERR_FLEET_UNAVAILABLE', 'Fleet is unreachable', { details: { reason } });
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function createFleetTransport(options: FleetTransportOptions): FleetTransport {
  const base = new URL(options.baseUrl);
  const prefix = `${base.pathname.replace(/\/+$/, '')}/api/v1/fleet`;
  const pool = new Pool(base.origin, {
    connections: options.maxConcurrency,
    keepAliveTimeout: 30_000,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: { timeout: options.timeoutMs },
  });

  // GETs go through undici's RetryHandler; POSTs (not idempotent) go to the pool once.
  const retrying = pool.compose(interceptors.retry({ throwOnError: false, methods: ['GET'], maxRetries: options.retries }));

  async function send(method: 'GET' | 'POST', path: string): Promise<unknown> {
    const deadline = createAttemptDeadline(options.timeoutMs);
    const request: Dispatcher.RequestOptions & { retryOptions?: RetryHandler.RetryOptions } = {
      method,
      path: `${prefix}${path}`,
      signal: deadline.signal,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      headers: { authorization: `Bearer ${options.apiToken}`, accept: 'application/json' },
    };
    if (method === 'GET') request.retryOptions = { retry: fleetRetry(options, { beforeSleep: () => deadline.pause(), afterSleep: () => deadline.restart() }) };
    try {
      // The final answer, once retries are used up or not wanted; retried answers' bodies are drained by undici.
      const response = await (method === 'GET' ? retrying : pool).request(request);
      // Always read the body to the end, error or not, so the socket goes back to the pool.
      const json = parseJson(await response.body.text());
      if (response.statusCode >= 200 && response.statusCode < 300) {
        if (json === undefined) throw new GatewayError('TG_ERR_FLEET_BAD_RESPONSE', 'Fleet returned an unexpected response', { details: { reason: 'body is not JSON' } });
        return json;
      }
      const retryAfterMs = retryAfterMsOf(response.headers['retry-after']);
      throw parseFleetError(response.statusCode, json, retryAfterMs === undefined ? {} : { retryAfterMs });
    } catch (error) {
      throw mapTransportError(error, deadline.signal);
    } finally {
      deadline.clear();
    }
  }

  return {
    get: (path) => send('GET', path),
    post: (path) => send('POST', path),
    close: () => pool.close(),
  };
}
