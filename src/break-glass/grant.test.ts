// Unit tests of a grant's time box and key, with the clock passed in: active from creation until just
// before its expiry instant, never once revoked; matched only by the exact (user, device, route) triple.
import { describe, expect, test } from 'vitest';
import { cleanGrant, createGrant, grantSchema, isActive, matchesKey, newestFirst, type Grant, type NewGrantInput } from './grant.ts';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const MINUTE = 60_000;
const input: NewGrantInput = { user: 'bob@example.com', sub: 'bob', deviceKey: 'email:bob@example.com', route: 'app', reason: 'outage', durationMs: 15 * MINUTE, requestId: 'r1', sourceAddress: '127.0.0.1' };

describe('createGrant and isActive', () => {
  const grant = createGrant(input, NOW);

  test('starts now and ends durationMs later, with a fresh url-safe id', () => {
    expect(grant).toMatchObject({ ...input, createdAtMs: NOW, expiresAtMs: NOW + 15 * MINUTE });
    expect(grant.id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(createGrant(input, NOW).id).not.toBe(grant.id);
    expect(grantSchema.parse(grant)).toEqual(grant);
  });

  test.each([
    [NOW, true],
    [NOW + 15 * MINUTE - 1, true],
    [NOW + 15 * MINUTE, false],
    [NOW + 16 * MINUTE, false],
  ])('at %i active: %s', (nowMs, active) => {
    expect(isActive(grant, nowMs)).toBe(active);
  });

  test('a revoked grant is inactive at once', () => {
    expect(isActive({ ...grant, revokedAtMs: NOW, revokedBy: 'alice@example.com' }, NOW)).toBe(false);
  });
});

describe('matchesKey', () => {
  const grant = createGrant(input, NOW);
  const key = { user: input.user, deviceKey: input.deviceKey, route: input.route };

  test('the exact triple matches; any one part different does not', () => {
    expect(matchesKey(grant, key)).toBe(true);
    for (const change of [{ user: 'alice@example.com' }, { deviceKey: 'A1B2' }, { route: 'wiki' }, { user: 'BOB@example.com' }]) {
      expect(matchesKey(grant, { ...key, ...change })).toBe(false);
    }
  });
});

test('newestFirst orders by creation time, then id, the same way every time', () => {
  const a: Grant = { ...createGrant(input, NOW), id: 'a'.repeat(24) };
  const b: Grant = { ...createGrant(input, NOW), id: 'b'.repeat(24) };
  const older: Grant = { ...createGrant(input, NOW - MINUTE), id: 'c'.repeat(24) };
  expect([older, a, b].sort(newestFirst).map((g) => g.id)).toEqual([b.id, a.id, older.id]);
  expect([b, older, a].sort(newestFirst).map((g) => g.id)).toEqual([b.id, a.id, older.id]);
});

test('cleanGrant drops absent optional fields only', () => {
  const grant: Grant = { ...createGrant(input, NOW), revokedAtMs: undefined, firstUsedAtMs: NOW };
  expect(Object.keys(cleanGrant(grant))).not.toContain('revokedAtMs');
  expect(cleanGrant(grant).firstUsedAtMs).toBe(NOW);
});
