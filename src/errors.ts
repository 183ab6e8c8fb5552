// GatewayError and the one catalogue of error codes. Code above the adapters matches on
// `code`, never on message text (the shape follows undici's and fastify's error catalogues).

export const ERROR_CATALOGUE = {
  TG_ERR_CONFIG_INVALID: { status: 500, expose: true, title: 'Configuration is invalid' },
  TG_ERR_CONFIG_UNREADABLE: { status: 500, expose: true, title: 'Configuration file cannot be read' },
  TG_ERR_BAD_REQUEST: { status: 400, expose: true, title: 'Bad request' },
  TG_ERR_BAD_PATH: { status: 400, expose: true, title: 'Bad request path' },
  TG_ERR_NO_ROUTE: { status: 404, expose: true, title: 'No such application' },
  TG_ERR_SIGNIN_FAILED: { status: 400, expose: true, title: 'Sign-in failed' },
  TG_ERR_IDP_UNAVAILABLE: { status: 503, expose: true, title: 'Sign-in is unavailable' },
  TG_ERR_UNAUTHENTICATED: { status: 401, expose: true, title: 'Sign-in required' },
  TG_ERR_REAUTH_REQUIRED: { status: 401, expose: true, title: 'Please sign in again' },
  TG_ERR_FORBIDDEN: { status: 403, expose: true, title: 'Access denied' },
  TG_ERR_UPSTREAM_UNAVAILABLE: { status: 502, expose: true, title: 'Application unavailable' },
  TG_ERR_UPSTREAM_TIMEOUT: { status: 504, expose: true, title: 'Application did not answer in time' },
  TG_ERR_FLEET_UNAVAILABLE: { status: 503, expose: true, title: 'Device check unavailable' },
  TG_ERR_FLEET_TIMEOUT: { status: 503, expose: true, title: 'Device check timed out' },
  TG_ERR_FLEET_UNAUTHORIZED: { status: 503, expose: true, title: 'Device check unavailable' },
  TG_ERR_FLEET_NOT_FOUND: { status: 404, expose: true, title: 'Device not found in Fleet' },
  TG_ERR_FLEET_RATE_LIMITED: { status: 503, expose: true, title: 'Device check unavailable' },
  TG_ERR_FLEET_BAD_RESPONSE: { status: 502, expose: true, title: 'Device check unavailable' },
  TG_ERR_RESULTS_UNAVAILABLE: { status: 503, expose: true, title: 'Device check unavailable' },
  TG_ERR_RESULTS_TIMEOUT: { status: 503, expose: true, title: 'Device check timed out' },
  TG_ERR_RESULTS_BAD_RESPONSE: { status: 502, expose: true, title: 'Device check unavailable' },
  TG_ERR_OPA_UNAVAILABLE: { status: 503, expose: true, title: 'Policy check unavailable' },
  TG_ERR_TRUST_UNAVAILABLE: { status: 503, expose: true, title: 'Device trust check unavailable' },
  // The three device answers of the deny page's JSON form (a denial is a decision, not a thrown error).
  TG_ERR_DEVICE_NOT_COMPLIANT: { status: 403, expose: true, title: 'Device does not meet the requirements' },
  TG_ERR_TRUST_TOO_LOW: { status: 403, expose: true, title: 'Device trust too low' },
  TG_ERR_POSTURE_UNAVAILABLE: { status: 503, expose: true, title: 'Device check unavailable' },
  TG_ERR_STORE_UNAVAILABLE: { status: 503, expose: true, title: 'Emergency access is unavailable' },
  TG_ERR_REVOCATION_UNAVAILABLE: { status: 503, expose: true, title: 'Session check unavailable' },
  TG_ERR_AUDIT_UNAVAILABLE: { status: 503, expose: true, title: 'Audit log is unavailable' },
  TG_ERR_CONFLICT: { status: 409, expose: true, title: 'Someone else changed this first' },
  TG_ERR_INTERNAL: { status: 500, expose: false, title: 'Something went wrong' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface GatewayErrorOptions {
  cause?: unknown;
  /** Overrides the catalogue's status, e.g. to pass a Fleet 404 on as 404. */
  status?: number;
  /** Extra machine-readable details safe to show (field paths, reasons). */
  details?: Record<string, unknown>;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Whether `message` may be shown to the end user. */
  readonly expose: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status ?? ERROR_CATALOGUE[code].status;
    this.expose = ERROR_CATALOGUE[code].expose;
    this.details = options.details;
  }

  get title(): string {
    return ERROR_CATALOGUE[this.code].title;
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}

/** Wraps anything thrown into a GatewayError; unknown errors become an unexposed 500. */
export function toGatewayError(value: unknown): GatewayError {
  if (isGatewayError(value)) return value;
  return new GatewayError('TG_ERR_INTERNAL', 'Internal error', { cause: value });
}
