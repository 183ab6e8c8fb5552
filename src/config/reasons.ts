// The one vocabulary of decision reasons: short kebab-case strings used alike by the decision, logs,
// metrics, the deny page, the config schema (what a break-glass grant covers) and tests. A leaf in
// config/, the lowest folder that needs it (the schema validates `breakGlass.covers` against it).

export const REASONS = [
  'public-path',
  'user-allowed',
  'user-not-allowed',
  'session-missing',
  'session-invalid',
  'session-expired',
  'session-idle',
  'session-refresh-failed',
  'session-revoked',
  'device-check-not-required',
  'device-compliant',
  'device-unknown',
  'device-certificate-required',
  'device-not-owned',
  'policy-failed',
  'policy-pending',
  'policy-missing',
  'device-stale',
  'posture-unavailable',
  'posture-stale-result',
  'posture-report-only',
  'posture-warn',
  'fleet-error-allowed',
  'trust-sufficient',
  'trust-below-threshold',
  'trust-unavailable',
  'trust-report-only',
  'trust-warn',
  'trust-error-allowed',
  'opa-allowed',
  'opa-denied',
  'opa-unavailable',
  'opa-error-allowed',
  'break-glass-active',
] as const;

export type Reason = (typeof REASONS)[number];

/**
 * Reasons that mean "the device is the problem": the deny page then explains the device, not the user,
 * and these are the only reasons a break-glass grant may cover (`breakGlass.covers`).
 */
export const DEVICE_REASONS = [
  'device-unknown', 'device-certificate-required', 'device-not-owned', 'policy-failed', 'policy-pending', 'policy-missing', 'device-stale',
  'posture-unavailable', 'trust-below-threshold', 'trust-unavailable',
] as const satisfies readonly Reason[];

export type DeviceReason = (typeof DEVICE_REASONS)[number];

const DEVICE_REASON_SET: ReadonlySet<string> = new Set(DEVICE_REASONS);

export function isDeviceReason(reason: Reason): reason is DeviceReason {
  return DEVICE_REASON_SET.has(reason);
}
