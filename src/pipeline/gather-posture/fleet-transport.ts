// HTTP transport to Fleet: one keep-alive undici Pool, per-attempt timeouts, retries with backoff
// for idempotent GETs, and the boundary where undici errors become GatewayErrors.
import { Pool } from 'undici';
import { GatewayError } from '../../errors.ts';
import { parseFleetError } from './fleet-schemas.ts';

export interface FleetTransportOptions {
  baseUrl: string;
  apiToken: string;
  /** Per attempt: connect + headers + body, including time queued behind busy connections. */
  timeoutMs: number;
  /** Pool size: Fleet has no general rate limit, so the gateway must bound its own load. */
  maxConcurrency: number;
  retries: number;
  retryBaseDelayMs: number;
  /** Cap on waiting for a `retry-after`; Fleet's login limiter asks for up to minutes. */
  maxRetryAfterMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export interface FleetTransport {
  /** GET `path` (relative to /api/v1/fleet), retried on 5xx/429/connection errors. */
  get(path: string): Promise<unknown>;
  /** POST `path` once: non-idempotent calls are never retried. */
  post(path: string): Promise<unknown>;
  close(): Promise<void>;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const MAX_BACKOFF_MS = 2_000;

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

function retryAfterMsOf(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim()) * 1000;
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

  async function attempt(method: 'GET' | 'POST', path: string): Promise<unknown> {
    const signal = AbortSignal.timeout(options.timeoutMs);
    try {
      const response = await pool.request({
        method,
        path: `${prefix}${path}`,
        signal,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        headers: { authorization: `Bearer ${options.apiToken}`, accept: 'application/json' },
      });
      // Always read the body to the end, error or not, so the socket goes back to the pool.
      const json = parseJson(await response.body.text());
      if (response.statusCode >= 200 && response.statusCode < 300) {
        if (json === undefined) throw new GatewayError('TG_ERR_FLEET_BAD_RESPONSE', 'Fleet returned an unexpected response', { details: { reason: 'body is not JSON' } });
        return json;
      }
      const retryAfterMs = retryAfterMsOf(response.headers['retry-after']);
      throw parseFleetError(response.statusCode, json, retryAfterMs === undefined ? {} : { retryAfterMs });
    } catch (error) {
      throw mapTransportError(error, signal);
    }
  }

  function delayBeforeRetryMs(error: GatewayError, attemptIndex: number): number {
    const exponential = Math.min(MAX_BACKOFF_MS, options.retryBaseDelayMs * 2 ** attemptIndex);
    // "Equal jitter": half fixed, half random, so retries from many gateways do not align.
    const jittered = exponential / 2 + (options.random() * exponential) / 2;
    const retryAfterMs = error.details?.retryAfterMs;
    if (typeof retryAfterMs !== 'number') return jittered;
    return Math.max(jittered, Math.min(retryAfterMs, options.maxRetryAfterMs));
  }

  async function get(path: string): Promise<unknown> {
    for (let attemptIndex = 0; ; attemptIndex += 1) {
      try {
        return await attempt('GET', path);
      } catch (error) {
        const gatewayError = error as GatewayError;
        const retryable = gatewayError.code === 'TG_ERR_FLEET_UNAVAILABLE' || gatewayError.code === 'TG_ERR_FLEET_RATE_LIMITED';
        if (!retryable || attemptIndex >= options.retries) throw gatewayError;
        await options.sleep(delayBeforeRetryMs(gatewayError, attemptIndex));
      }
    }
  }

  return {
    get,
    post: (path) => attempt('POST', path),
    close: () => pool.close(),
  };
}
