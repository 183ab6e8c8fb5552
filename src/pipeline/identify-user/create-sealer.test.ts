// Unit tests for the cookie sealer: round trip, tamper detection, purpose binding, expiry on an injected
// clock and secret rotation (first secret seals, every secret opens).
import { describe, expect, test } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import { createSealer } from './create-sealer.ts';

const OLD = 'old-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const NEW = 'new-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const HOUR = 3600_000;

/** Flips one base64url character of a compact JWE part (0 header, 2 iv, 3 ciphertext, 4 tag). */
function tamper(token: string, part: number): string {
  const parts = token.split('.');
  const segment = parts[part] ?? '';
  const index = Math.floor(segment.length / 2);
  const swapped = segment[index] === 'A' ? 'B' : 'A';
  parts[part] = `${segment.slice(0, index)}${swapped}${segment.slice(index + 1)}`;
  return parts.join('.');
}

describe('createSealer', () => {
  test('seals and opens a payload', async () => {
    const sealer = createSealer({ secrets: [NEW], purpose: 'session' });
    const token = await sealer.seal({ sub: 'alice', groups: ['engineering'] }, NOW + HOUR);
    expect(token.split('.')).toHaveLength(5);
    expect(token).not.toContain('alice');
    const payload = await sealer.open(token, NOW);
    expect(payload).toMatchObject({ sub: 'alice', groups: ['engineering'], exp: Math.floor((NOW + HOUR) / 1000) });
  });

  test.each([
    ['header', 0],
    ['iv', 2],
    ['ciphertext', 3],
    ['tag', 4],
  ])('a tampered %s does not open', async (_name, part) => {
    const sealer = createSealer({ secrets: [NEW], purpose: 'session' });
    const token = await sealer.seal({ sub: 'alice' }, NOW + HOUR);
    const altered = tamper(token, part);
    expect(altered).not.toBe(token);
    expect(await sealer.open(altered, NOW)).toBeUndefined();
  });

  test('garbage and empty strings do not open (and do not throw)', async () => {
    const sealer = createSealer({ secrets: [NEW], purpose: 'session' });
    expect(await sealer.open('', NOW)).toBeUndefined();
    expect(await sealer.open('%%%', NOW)).toBeUndefined();
    expect(await sealer.open('a.b.c.d.e', NOW)).toBeUndefined();
  });

  test('a token sealed for one purpose does not open as another', async () => {
    const login = createSealer({ secrets: [NEW], purpose: 'login' });
    const session = createSealer({ secrets: [NEW], purpose: 'session' });
    const token = await login.seal({ state: 'xyz' }, NOW + HOUR);
    expect(await login.open(token, NOW)).toMatchObject({ state: 'xyz' });
    expect(await session.open(token, NOW)).toBeUndefined();
  });

  test('an expired token does not open', async () => {
    const sealer = createSealer({ secrets: [NEW], purpose: 'session' });
    const token = await sealer.seal({ sub: 'alice' }, NOW + HOUR);
    expect(await sealer.open(token, NOW + HOUR - 1000)).toMatchObject({ sub: 'alice' });
    expect(await sealer.open(token, NOW + HOUR + 1000)).toBeUndefined();
    expect(await sealer.open(token, NOW + 30 * 24 * HOUR)).toBeUndefined();
  });

  test('rotation: a token sealed with the old secret opens with [new, old] but not with [new]', async () => {
    const before = createSealer({ secrets: [OLD], purpose: 'session' });
    const rotating = createSealer({ secrets: [NEW, OLD], purpose: 'session' });
    const after = createSealer({ secrets: [NEW], purpose: 'session' });
    const token = await before.seal({ sub: 'alice' }, NOW + HOUR);
    expect(await rotating.open(token, NOW)).toMatchObject({ sub: 'alice' });
    expect(await after.open(token, NOW)).toBeUndefined();
  });

  test('rotation: a sealer with [new, old] seals with the new secret', async () => {
    const before = createSealer({ secrets: [OLD], purpose: 'session' });
    const rotating = createSealer({ secrets: [NEW, OLD], purpose: 'session' });
    const after = createSealer({ secrets: [NEW], purpose: 'session' });
    const oldKid = decodeProtectedHeader(await before.seal({ sub: 'a' }, NOW + HOUR)).kid;
    const token = await rotating.seal({ sub: 'alice' }, NOW + HOUR);
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: 'dir', enc: 'A256GCM', typ: 'session' });
    expect(oldKid).toBeTruthy();
    expect(header.kid).toBeTruthy();
    expect(header.kid).not.toBe(oldKid);
    // Sealed with the new secret: it still opens once the old secret is retired, and not with the old alone.
    expect(await after.open(token, NOW)).toMatchObject({ sub: 'alice' });
    expect(await before.open(token, NOW)).toBeUndefined();
  });

  test('refuses to be built without a secret', () => {
    expect(() => createSealer({ secrets: [], purpose: 'session' })).toThrow(/at least one secret/);
  });
});
