// Unit tests of the pure decision: public paths, sign-in problems, allow lists, the device rule's verdicts
// and rollout modes, the trust threshold (a score equal to the minimum passes), and OPA turning an allow
// into a deny, and a break-glass grant (an input) opening only a denial its route lets it cover. The
// clock is the `nowMs` argument.
import { describe, expect, test } from 'vitest';
import { GatewayError } from '../../errors.ts';
import { routeConfig } from '../../../test/support/route-configs.ts';
import type { Session } from '../identify-user/session-cookie.ts';
import type { PostureResult } from '../gather-posture/gather-posture.ts';
import type { TrustResult } from '../gather-posture/gather-trust.ts';
import type { FleetHost } from '../gather-posture/fleet-schemas.ts';
import type { HostVerdict } from './evaluate-posture.ts';
import type { Grant } from '../../break-glass/grant.ts';
import { applyOpa, decide, isUserAllowed, type Decision, type DecisionInput } from './decide.ts';
import { REASONS } from '../../config/reasons.ts';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const HOUR = 3600_000;
const DEVICE = { requireCritical: true };

const session: Session = { id: 'session-id-0123456789', sub: 'bob', email: 'bob@example.com', groups: ['engineering'], createdAtMs: NOW - HOUR, lastSeenAtMs: NOW, expiresAtMs: NOW + HOUR };

const host = { id: 1, uuid: 'A1B2' } as FleetHost;
function hostVerdict(compliant: boolean, reasons: HostVerdict['reasons'] = []): HostVerdict {
  return { host, compliant, reasons, findings: [], missing: [], stale: undefined };
}
function evaluated(compliant: boolean, reasons: HostVerdict['reasons'] = [], source: 'cache' | 'fleet' | 'stale' = 'fleet'): PostureResult {
  return { kind: 'evaluated', verdict: { compliant, hosts: [hostVerdict(compliant, reasons)] }, source };
}
const compliant = evaluated(true);
const unavailable: PostureResult = { kind: 'unavailable', error: new GatewayError('TG_ERR_FLEET_UNAVAILABLE', 'down') };
function scored(score: number): TrustResult {
  return { kind: 'scored', score, details: [], explanation: undefined, subjects: [], source: 'fresh', sourceName: 'test' };
}
const trustUnavailable: TrustResult = { kind: 'unavailable', error: new GatewayError('TG_ERR_RESULTS_UNAVAILABLE', 'down') };

function input(overrides: Partial<DecisionInput> & { routeOverrides?: Record<string, unknown> } = {}): DecisionInput {
  const { routeOverrides, ...rest } = overrides;
  return {
    route: routeConfig(routeOverrides),
    publicPath: false,
    user: { session },
    device: { kind: 'email', email: session.email },
    posture: { kind: 'not-required' },
    trust: { kind: 'not-required' },
    ...rest,
  };
}

describe('who', () => {
  test('a public path is allowed before anything else is looked at', () => {
    expect(decide(input({ publicPath: true, user: { problem: 'session-missing' } }), NOW)).toEqual({ verdict: 'allow', reasons: ['public-path'] });
  });

  test.each(['session-missing', 'session-invalid', 'session-expired', 'session-idle', 'session-refresh-failed', 'session-revoked'] as const)(
    'no session (%s) → authenticate with that reason',
    (problem) => {
      expect(decide(input({ user: { problem } }), NOW)).toEqual({ verdict: 'authenticate', reasons: [problem] });
    },
  );

  test.each([
    [{ allowAnyAuthenticatedUser: true }, true],
    [{ allowAnyAuthenticatedUser: false, allowedEmails: ['BOB@example.com'] }, true],
    [{ allowAnyAuthenticatedUser: false, allowedEmails: ['alice@example.com'] }, false],
    [{ allowAnyAuthenticatedUser: false, allowedEmailDomains: ['example.com'] }, true],
    [{ allowAnyAuthenticatedUser: false, allowedEmailDomains: ['ample.com'] }, false],
    [{ allowAnyAuthenticatedUser: false, allowedGroups: ['engineering'] }, true],
    [{ allowAnyAuthenticatedUser: false, allowedGroups: ['Engineering', 'finance'] }, false],
  ])('allow list %j → allowed: %s', (routeOverrides, allowed) => {
    expect(isUserAllowed(routeConfig(routeOverrides), session)).toBe(allowed);
    expect(decide(input({ routeOverrides, posture: compliant }), NOW).verdict).toBe(allowed ? 'allow' : 'deny');
  });

  test('a refused user is refused for that alone, whatever the device says', () => {
    const decision = decide(input({ routeOverrides: { allowAnyAuthenticatedUser: false, allowedGroups: ['finance'], device: DEVICE }, posture: unavailable }), NOW);
    expect(decision).toEqual({ verdict: 'deny', reasons: ['user-not-allowed'] });
  });
});

describe('device posture', () => {
  test.each<[string, PostureResult, Decision]>([
    ['compliant', compliant, { verdict: 'allow', reasons: ['user-allowed', 'device-compliant'] }],
    ['compliant, served stale during an outage', evaluated(true, [], 'stale'), { verdict: 'allow', reasons: ['user-allowed', 'device-compliant', 'posture-stale-result'] }],
    ['failing a policy', evaluated(false, ['policy-failed']), { verdict: 'deny', reasons: ['policy-failed'] }],
    ['failing, pending and stale', evaluated(false, ['policy-failed', 'policy-pending', 'device-stale']), { verdict: 'deny', reasons: ['policy-failed', 'policy-pending', 'device-stale'] }],
    ['evaluated without a reason', evaluated(false), { verdict: 'deny', reasons: ['device-unknown'] }],
    ['no device', { kind: 'no-device', problems: ['none'] }, { verdict: 'deny', reasons: ['device-unknown'] }],
    ['no certificate', { kind: 'no-device', problems: ['none'], certificateRequired: true }, { verdict: 'deny', reasons: ['device-certificate-required'] }],
    ['not owned', { kind: 'not-owned', host }, { verdict: 'deny', reasons: ['device-not-owned'] }],
    ['Fleet unavailable', unavailable, { verdict: 'deny', reasons: ['posture-unavailable'] }],
  ])('enforce, %s', (_, posture, expected) => {
    expect(decide(input({ routeOverrides: { device: DEVICE }, posture }), NOW)).toEqual(expected);
  });

  test('no device rule: allowed and says so', () => {
    expect(decide(input(), NOW)).toEqual({ verdict: 'allow', reasons: ['user-allowed', 'device-check-not-required'] });
  });

  test('onFleetError: allow lets an outage through, never a failing device', () => {
    const routeOverrides = { device: { ...DEVICE, onFleetError: 'allow' } };
    expect(decide(input({ routeOverrides, posture: unavailable }), NOW)).toEqual({ verdict: 'allow', reasons: ['user-allowed', 'fleet-error-allowed', 'posture-unavailable'] });
    expect(decide(input({ routeOverrides, posture: evaluated(false, ['policy-failed']) }), NOW).verdict).toBe('deny');
  });

  test('report-only lets a failing device through with the would-be reasons', () => {
    const decision = decide(input({ routeOverrides: { device: { ...DEVICE, mode: 'report-only' } }, posture: evaluated(false, ['policy-failed']) }), NOW);
    expect(decision).toEqual({ verdict: 'allow', reasons: ['user-allowed', 'posture-report-only', 'policy-failed'] });
  });

  test('warn lets through until warnUntil, and enforces from that instant on', () => {
    const warnUntil = new Date(NOW + HOUR).toISOString();
    const routeOverrides = { device: { ...DEVICE, mode: 'warn', warnUntil } };
    const failing = evaluated(false, ['policy-failed']);
    expect(decide(input({ routeOverrides, posture: failing }), NOW)).toEqual({ verdict: 'allow', reasons: ['user-allowed', 'posture-warn', 'policy-failed'] });
    expect(decide(input({ routeOverrides, posture: failing }), NOW + HOUR - 1).verdict).toBe('allow');
    expect(decide(input({ routeOverrides, posture: failing }), NOW + HOUR)).toEqual({ verdict: 'deny', reasons: ['policy-failed'] });
  });
});

describe('trust threshold', () => {
  const trustRoute = (rule: Record<string, unknown> = {}) => ({ minTrustScore: { min: 70, ...rule } });

  test.each([
    [100, 'allow'],
    [71, 'allow'],
    [70, 'allow'],
    [69, 'deny'],
    [0, 'deny'],
  ] as const)('score %i against min 70 → %s', (score, verdict) => {
    const decision = decide(input({ routeOverrides: trustRoute(), trust: scored(score) }), NOW);
    expect(decision).toEqual(verdict === 'allow' ? { verdict, reasons: ['user-allowed', 'trust-sufficient'] } : { verdict, reasons: ['trust-below-threshold'] });
  });

  test('min 0 lets a zero score in; min 100 only a perfect one', () => {
    expect(decide(input({ routeOverrides: trustRoute({ min: 0 }), trust: scored(0) }), NOW).verdict).toBe('allow');
    expect(decide(input({ routeOverrides: trustRoute({ min: 100 }), trust: scored(100) }), NOW).verdict).toBe('allow');
    expect(decide(input({ routeOverrides: trustRoute({ min: 100 }), trust: scored(99) }), NOW).verdict).toBe('deny');
  });

  test('no score: deny, unless onError allows it', () => {
    expect(decide(input({ routeOverrides: trustRoute(), trust: trustUnavailable }), NOW)).toEqual({ verdict: 'deny', reasons: ['trust-unavailable'] });
    expect(decide(input({ routeOverrides: trustRoute({ onError: 'allow' }), trust: trustUnavailable }), NOW)).toEqual({
      verdict: 'allow',
      reasons: ['user-allowed', 'trust-error-allowed', 'trust-unavailable'],
    });
  });

  test('report-only and warn soften a low score; warn ends at warnUntil', () => {
    expect(decide(input({ routeOverrides: trustRoute({ mode: 'report-only' }), trust: scored(10) }), NOW)).toEqual({
      verdict: 'allow',
      reasons: ['user-allowed', 'trust-report-only', 'trust-below-threshold'],
    });
    const warn = trustRoute({ mode: 'warn', warnUntil: new Date(NOW + HOUR).toISOString() });
    expect(decide(input({ routeOverrides: warn, trust: scored(10) }), NOW).reasons).toEqual(['user-allowed', 'trust-warn', 'trust-below-threshold']);
    expect(decide(input({ routeOverrides: warn, trust: scored(10) }), NOW + HOUR).verdict).toBe('deny');
  });

  test('a failing device and a low score are both reported', () => {
    const decision = decide(input({ routeOverrides: { device: DEVICE, ...trustRoute() }, posture: evaluated(false, ['policy-failed']), trust: scored(10) }), NOW);
    expect(decision).toEqual({ verdict: 'deny', reasons: ['policy-failed', 'trust-below-threshold'] });
  });

  test('with a trust rule and no device rule, "device-check-not-required" is not claimed', () => {
    expect(decide(input({ routeOverrides: trustRoute(), trust: scored(90) }), NOW).reasons).toEqual(['user-allowed', 'trust-sufficient']);
  });
});

describe('break-glass grant', () => {
  const grant: Grant = { id: 'grant-1', user: session.email, sub: session.sub, deviceKey: 'email:bob@example.com', route: 'app', reason: 'laptop broke', createdAtMs: NOW - HOUR, expiresAtMs: NOW + HOUR, durationMs: 2 * HOUR, requestId: 'r', sourceAddress: '127.0.0.1' };
  const coversPolicies = { device: DEVICE, breakGlass: { allowed: true, covers: ['policy-failed', 'trust-below-threshold'] } };

  test.each<[string, Partial<DecisionInput>, Decision]>([
    ['a covered denial is let through, its reasons kept', { posture: evaluated(false, ['policy-failed']) }, { verdict: 'allow', reasons: ['break-glass-active', 'policy-failed'] }],
    ['one covered and one uncovered reason stay denied', { posture: evaluated(false, ['policy-failed', 'device-stale']) }, { verdict: 'deny', reasons: ['policy-failed', 'device-stale'] }],
    ['an uncovered reason stays denied', { posture: { kind: 'not-owned', host } }, { verdict: 'deny', reasons: ['device-not-owned'] }],
    ['a refused user stays refused', { user: { session: { ...session, email: 'eve@example.com', groups: [] } } }, { verdict: 'deny', reasons: ['user-not-allowed'] }],
    ['no session: still asked to sign in', { user: { problem: 'session-missing' } }, { verdict: 'authenticate', reasons: ['session-missing'] }],
    ['an allowed request is not marked', { posture: compliant }, { verdict: 'allow', reasons: ['user-allowed', 'device-compliant'] }],
  ])('with a grant: %s', (_, overrides, expected) => {
    const routeOverrides = { ...coversPolicies, allowAnyAuthenticatedUser: false, allowedEmails: ['bob@example.com'] };
    expect(decide(input({ routeOverrides, grant, ...overrides }), NOW)).toEqual(expected);
  });

  test('device and trust both covered: the grant opens the denial', () => {
    const routeOverrides = { ...coversPolicies, minTrustScore: { min: 70 } };
    expect(decide(input({ routeOverrides, grant, posture: evaluated(false, ['policy-failed']), trust: scored(10) }), NOW)).toEqual({ verdict: 'allow', reasons: ['break-glass-active', 'policy-failed', 'trust-below-threshold'] });
  });

  test('without a grant, or on a route without emergency access, a covered denial stays denied', () => {
    const posture = evaluated(false, ['policy-failed']);
    expect(decide(input({ routeOverrides: coversPolicies, posture }), NOW)).toEqual({ verdict: 'deny', reasons: ['policy-failed'] });
    expect(decide(input({ routeOverrides: { device: DEVICE }, grant, posture }), NOW)).toEqual({ verdict: 'deny', reasons: ['policy-failed'] });
    expect(decide(input({ routeOverrides: { device: DEVICE, breakGlass: { allowed: false, covers: ['policy-failed'] } }, grant, posture }), NOW).verdict).toBe('deny');
  });
});

describe('OPA', () => {
  const allowed: Decision = { verdict: 'allow', reasons: ['user-allowed'] };
  const rule = (onError: 'allow' | 'deny') => ({ url: 'http://127.0.0.1:1', path: 'trustgate/decision', timeout: 2_000, onError });
  const failed = { kind: 'failed', error: new GatewayError('TG_ERR_OPA_UNAVAILABLE', 'down') } as const;

  test('OPA turns an allow into a deny, keeping its reasons apart', () => {
    expect(applyOpa(allowed, { kind: 'answered', answer: { allow: false, reasons: ['after hours'] } }, rule('deny'))).toEqual({ verdict: 'deny', reasons: ['opa-denied'], opaReasons: ['after hours'] });
    expect(applyOpa(allowed, { kind: 'answered', answer: { allow: true, reasons: [] } }, rule('deny'))).toEqual({ verdict: 'allow', reasons: ['user-allowed', 'opa-allowed'] });
  });

  test('OPA never turns a deny into an allow', () => {
    const denied: Decision = { verdict: 'deny', reasons: ['policy-failed'] };
    expect(applyOpa(denied, { kind: 'answered', answer: { allow: true, reasons: [] } }, rule('allow'))).toBe(denied);
    expect(applyOpa(denied, failed, rule('allow'))).toBe(denied);
  });

  test('an unreachable OPA denies unless its rule allows errors', () => {
    expect(applyOpa(allowed, failed, rule('deny'))).toEqual({ verdict: 'deny', reasons: ['opa-unavailable'] });
    expect(applyOpa(allowed, failed, rule('allow'))).toEqual({ verdict: 'allow', reasons: ['user-allowed', 'opa-unavailable', 'opa-error-allowed'] });
    expect(applyOpa(allowed, { kind: 'not-asked' }, rule('deny'))).toBe(allowed);
  });
});

test('every reason decide returns is in the shared vocabulary', () => {
  const vocabulary = new Set<string>(REASONS);
  const decisions = [
    decide(input({ routeOverrides: { device: { ...DEVICE, mode: 'report-only' }, minTrustScore: { min: 70, mode: 'report-only' } }, posture: evaluated(false, ['policy-failed', 'policy-missing']), trust: scored(1) }), NOW),
    decide(input({ routeOverrides: { device: DEVICE }, posture: unavailable }), NOW),
  ];
  for (const reason of decisions.flatMap((d) => d.reasons)) expect(vocabulary.has(reason)).toBe(true);
});
