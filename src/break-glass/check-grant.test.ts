// Unit tests of which denials a grant may open: only a denial every one of whose reasons the route's
// rule covers (a grant covering one problem never opens a request that has another), never an allow or
// an authenticate, never on a route without emergency access; and the device part of a grant's key.
import { describe, expect, test } from 'vitest';
import { routeConfig } from '../../test/support/route-configs.ts';
import type { BreakGlassRule } from '../config/schema.ts';
import type { Decision } from '../pipeline/decide/decide.ts';
import type { Reason } from '../config/reasons.ts';
import { deviceKeyOf } from './check-grant.ts';
import { isCoverable } from './is-coverable.ts';

function rule(overrides: Record<string, unknown> = {}): BreakGlassRule {
  const route = routeConfig({ breakGlass: { allowed: true, ...overrides } });
  if (!route.breakGlass) throw new Error('the route has a break-glass rule');
  return route.breakGlass;
}

const deny = (...reasons: Reason[]): Decision => ({ verdict: 'deny', reasons });

describe('isCoverable', () => {
  const onlyPolicies = rule({ covers: ['policy-failed'] });

  test.each<[string, Reason[], boolean]>([
    ['the one covered reason', ['policy-failed'], true],
    ['a covered and an uncovered reason', ['policy-failed', 'device-stale'], false],
    ['an uncovered and a covered reason (order does not matter)', ['trust-below-threshold', 'policy-failed'], false],
    ['only uncovered reasons', ['device-stale', 'posture-unavailable'], false],
    ['a user the route refuses', ['user-not-allowed'], false],
    ['no reason at all', [], false],
  ])('covers: [policy-failed], denial for %s → %s', (_, reasons, coverable) => {
    expect(isCoverable(deny(...reasons), onlyPolicies)).toBe(coverable);
  });

  test('a rule covering several reasons opens a denial for any mix of them, and no more', () => {
    const two = rule({ covers: ['policy-failed', 'trust-below-threshold'] });
    expect(isCoverable(deny('policy-failed', 'trust-below-threshold'), two)).toBe(true);
    expect(isCoverable(deny('trust-below-threshold'), two)).toBe(true);
    expect(isCoverable(deny('policy-failed', 'trust-below-threshold', 'device-not-owned'), two)).toBe(false);
  });

  test('the default rule covers device problems but not an unknown device or a missing certificate', () => {
    const defaults = rule();
    expect(isCoverable(deny('policy-failed', 'device-stale', 'trust-below-threshold'), defaults)).toBe(true);
    expect(isCoverable(deny('device-unknown'), defaults)).toBe(false);
    expect(isCoverable(deny('device-certificate-required'), defaults)).toBe(false);
    expect(isCoverable(deny('policy-failed', 'device-unknown'), defaults)).toBe(false);
  });

  test('nothing but a denial is opened, and only where emergency access is allowed', () => {
    expect(isCoverable({ verdict: 'allow', reasons: ['user-allowed'] }, onlyPolicies)).toBe(false);
    expect(isCoverable({ verdict: 'authenticate', reasons: ['session-missing'] }, onlyPolicies)).toBe(false);
    expect(isCoverable(deny('policy-failed'), undefined)).toBe(false);
    expect(isCoverable(deny('policy-failed'), rule({ allowed: false, covers: ['policy-failed'] }))).toBe(false);
  });
});

describe('deviceKeyOf', () => {
  test("a certificate's host uuid, else the user's email", () => {
    expect(deviceKeyOf({ kind: 'certificate', uuid: 'A1B2', source: 'mtls', fingerprint: 'f' }, 'bob@example.com')).toBe('A1B2');
    expect(deviceKeyOf({ kind: 'email', email: 'bob@example.com' }, 'bob@example.com')).toBe('email:bob@example.com');
    expect(deviceKeyOf({ kind: 'unknown', problems: [] }, 'bob@example.com')).toBe('email:bob@example.com');
    expect(deviceKeyOf(undefined, 'bob@example.com')).toBe('email:bob@example.com');
  });
});
