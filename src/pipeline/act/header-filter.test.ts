// The header filter strips every protected name and stripHeaders entry in every spelling a backend could
// fold into it (each RFC 9110 token separator, none, mixed, any case), and nothing else.
import { describe, expect, test } from 'vitest';
import { allSpellings, concreteName } from '../../../test/support/header-spellings.ts';
import { createHeaderFilter, foldHeaderName, PROTECTED_HEADERS } from './header-filter.ts';

const filter = createHeaderFilter({ stripHeaders: ['X-Company-Role', 'X-Internal-*'], certificateHeader: 'x-device-cert' });

// Node lower-cases received names; the filter must not depend on that.
const PROTECTED = [...PROTECTED_HEADERS, 'X-Company-Role', 'X-Internal-*', 'X-Device-Cert'].map(concreteName);

const KEPT = ['Accept', 'Accept-Language', 'Content-Type', 'Cookie', 'User-Agent', 'X-Custom', 'Remote-Addr-Info', 'Remote-Users',
  'X-Requested-With', 'X-Request', 'X-Trust', 'X-Trustgat', 'X-Real', 'X-Forward', 'X-Company', 'X-Device',
  'X-Client', 'X-SSL', 'Authorization', 'Origin', 'Referer', 'X-CSRF-Token', 'Sec-WebSocket-Key', 'X-WebAuthn-Challenge'];

describe('header filter', () => {
  test.each(PROTECTED)('strips %s in every spelling', (name) => {
    const kept = allSpellings(name).filter((spelling) => !filter.strips(spelling) || !filter.strips(spelling.toLowerCase()));
    expect(kept).toEqual([]);
  });

  test.each(KEPT)('keeps %s in every spelling', (name) => {
    const stripped = allSpellings(name).filter((spelling) => filter.strips(spelling));
    expect(stripped).toEqual([]);
  });

  test('the brief examples of one name all fold together', () => {
    const spellings = ['xtrustgateuser', 'X.Trustgate.User', 'x~trustgate~user', 'X_TRUSTGATE_USER', 'x-trustgate_user', 'HTTP_X_TRUSTGATE_USER'.slice(5)];
    expect(new Set(spellings.map(foldHeaderName))).toEqual(new Set(['xtrustgateuser']));
    for (const spelling of spellings) expect(filter.strips(spelling)).toBe(true);
  });

  test('stripHeaders belongs to the config it was built from', () => {
    const plain = createHeaderFilter({ stripHeaders: [], certificateHeader: 'x-client-cert' });
    expect(plain.strips('x-company-role')).toBe(false);
    expect(plain.strips('x-internal-user')).toBe(false);
    expect(plain.strips('x_device_cert')).toBe(false);
    expect(filter.strips('x_device_cert')).toBe(true);
  });

  test('answers stay right once the memo of names is full', () => {
    const busy = createHeaderFilter({ stripHeaders: [], certificateHeader: 'x-client-cert' });
    for (let i = 0; i < 5000; i++) expect(busy.strips(`x-made-up-${i}`)).toBe(false);
    expect(busy.strips('x.trustgate.user')).toBe(true);
    expect(busy.strips('accept')).toBe(false);
  });
});
