// Unit tests of one column's verdict: every expectation form, rows any/all, absent and optional
// columns, per-user/per-group/default selection, and learned values (trust on first use). Clock injected.
import { describe, expect, test } from 'vitest';
import { evaluateColumn, type ColumnContext } from './evaluate-column.ts';
import { ALICE, DAY, NOW, column } from './test-fixtures.ts';

const ctx: ColumnContext = { user: ALICE, nowMs: NOW, known: [] };
const rows = (...values: string[]) => values.map((c) => ({ c }));

describe('plain expectations', () => {
  test('values are exact and case-sensitive unless ignoreCase', () => {
    expect(evaluateColumn(column({ expect: { values: ['user'] } }), rows('user'), ctx).outcome).toBe('match');
    expect(evaluateColumn(column({ expect: { values: ['user'] } }), rows('User'), ctx).outcome).toBe('mismatch');
    expect(evaluateColumn(column({ expect: { values: ['user'], ignoreCase: true } }), rows('User'), ctx).outcome).toBe('match');
  });

  test('an empty string is a value, not an absence', () => {
    const verdict = evaluateColumn(column({ expect: { values: [''] } }), rows(''), ctx);
    expect(verdict).toMatchObject({ outcome: 'match', actual: [''] });
  });

  test('pattern is a regular expression (unanchored unless written so)', () => {
    const c = column({ expect: { pattern: '^(|:\\d+)$' } });
    expect(evaluateColumn(c, rows(':0'), ctx).outcome).toBe('match');
    expect(evaluateColumn(c, rows('10.1.2.3'), ctx).outcome).toBe('mismatch');
    expect(evaluateColumn(column({ expect: { pattern: 'mac', ignoreCase: true } }), rows('MacOS'), ctx).outcome).toBe('match');
  });

  test('range is inclusive; non-numbers and empty strings mismatch', () => {
    const c = column({ expect: { range: { min: 0, max: 23 } } });
    expect(evaluateColumn(c, rows('0'), ctx).outcome).toBe('match');
    expect(evaluateColumn(c, rows('23'), ctx).outcome).toBe('match');
    expect(evaluateColumn(c, rows('24'), ctx).outcome).toBe('mismatch');
    expect(evaluateColumn(c, rows('noon'), ctx).outcome).toBe('mismatch');
    expect(evaluateColumn(c, rows(''), ctx).outcome).toBe('mismatch');
    expect(evaluateColumn(column({ expect: { range: { min: 1 } } }), rows('0'), ctx).expected).toBe('a number of at least 1');
  });

  test('recentWithin compares a unix time (seconds) with the injected clock', () => {
    const c = column({ expect: { recentWithin: '30d' } });
    const at = (ms: number) => rows(String(Math.floor(ms / 1000)));
    expect(evaluateColumn(c, at(NOW - 29 * DAY), ctx).outcome).toBe('match');
    expect(evaluateColumn(c, at(NOW - 30 * DAY), ctx).outcome).toBe('match'); // exactly 30d: inclusive
    expect(evaluateColumn(c, at(NOW - 31 * DAY), ctx).outcome).toBe('mismatch');
    expect(evaluateColumn(c, at(NOW + 4 * 60_000), ctx).outcome).toBe('match'); // within the 5-minute skew allowance
    expect(evaluateColumn(c, at(NOW + DAY), ctx).outcome).toBe('mismatch'); // a login in the future
    // The same row judged by a later clock is stale.
    expect(evaluateColumn(c, at(NOW - 29 * DAY), { ...ctx, nowMs: NOW + 2 * DAY }).outcome).toBe('mismatch');
    expect(evaluateColumn(c, at(NOW), ctx).expected).toBe('a time within the last 30d');
  });

  test('equalsUser: email, email local part (domain prefix ignored), sub', () => {
    const local = column({ expect: { equalsUser: 'email-local-part' } });
    expect(evaluateColumn(local, rows('alice'), ctx).outcome).toBe('match');
    expect(evaluateColumn(local, rows('ALICE'), ctx).outcome).toBe('match');
    expect(evaluateColumn(local, rows('CORP\\alice'), ctx).outcome).toBe('match');
    expect(evaluateColumn(local, rows('bob'), ctx)).toMatchObject({ outcome: 'mismatch', expected: "the user's email local part (alice)" });
    expect(evaluateColumn(column({ expect: { equalsUser: 'email' } }), rows('Alice@Example.com'), ctx).outcome).toBe('match');
    expect(evaluateColumn(column({ expect: { equalsUser: 'sub' } }), rows('idp|alice'), ctx).outcome).toBe('match');
    expect(evaluateColumn(column({ expect: { equalsUser: 'sub' } }), rows('IDP|ALICE'), ctx).outcome).toBe('mismatch');
  });

  test('present: any non-empty value', () => {
    expect(evaluateColumn(column({ expect: { present: true } }), rows('x'), ctx).outcome).toBe('match');
    expect(evaluateColumn(column({ expect: { present: true } }), rows(''), ctx).outcome).toBe('mismatch');
  });

  test('includesAll: every listed value appears in some row', () => {
    const c = column({ expect: { includesAll: ['osqueryd', 'orbit'] } });
    expect(evaluateColumn(c, rows('launchd', 'orbit', 'osqueryd'), ctx)).toMatchObject({ outcome: 'match', actual: ['orbit', 'osqueryd'] });
    expect(evaluateColumn(c, rows('launchd', 'osqueryd'), ctx).outcome).toBe('mismatch');
  });
});

describe('rows any / all', () => {
  test('any: one matching row is enough; all: every row must match', () => {
    const any = column({ expect: { range: { min: 1 } } });
    const all = column({ expect: { range: { min: 1 } }, rows: 'all' });
    expect(evaluateColumn(any, rows('0', '5'), ctx)).toMatchObject({ outcome: 'match', actual: ['5'] });
    expect(evaluateColumn(all, rows('0', '5'), ctx)).toMatchObject({ outcome: 'mismatch', actual: ['0'], expected: 'a number of at least 1 (every row)' });
    expect(evaluateColumn(all, rows('3', '5'), ctx).outcome).toBe('match');
  });

  test('rows without the column are ignored; the shown values are capped', () => {
    const many = Array.from({ length: 12 }, (_, i) => ({ c: `v${i}` }));
    const verdict = evaluateColumn(column({ expect: { values: ['x'] } }), [{ other: '1' }, ...many], ctx);
    expect(verdict).toMatchObject({ outcome: 'mismatch', omitted: 4 });
    expect(verdict.actual).toHaveLength(8);
  });
});

describe('absent and optional columns', () => {
  test('a column no row carries is unknown, not a match', () => {
    expect(evaluateColumn(column({ expect: { present: true } }), [{ other: 'x' }], ctx)).toMatchObject({ outcome: 'unknown', actual: null });
    expect(evaluateColumn(column({ expect: { present: true } }), [], ctx).outcome).toBe('unknown');
  });

  test('optional: absent or empty in every row → skipped (out of the total)', () => {
    const c = column({ expect: { learned: true }, optional: true });
    expect(evaluateColumn(c, [{ other: 'x' }], ctx).outcome).toBe('skipped');
    expect(evaluateColumn(c, rows('', ''), ctx).outcome).toBe('skipped');
    // Present on this platform: judged like any column.
    expect(evaluateColumn(c, rows('S-1-5-21'), { ...ctx, known: ['S-1-5-99'] }).outcome).toBe('mismatch');
  });

  test('from: the value is read from another osquery column', () => {
    const c = column({ expect: { values: ['Europe/Berlin'] }, from: 'local_timezone' });
    expect(evaluateColumn(c, [{ c: 'UTC', local_timezone: 'Europe/Berlin' }], ctx).outcome).toBe('match');
  });
});

describe('learned values (trust on first use)', () => {
  test('first sighting counts as a match and is to be learned', () => {
    const verdict = evaluateColumn(column({ expect: { learned: true } }), rows('C02XYZ'), ctx);
    expect(verdict).toMatchObject({ outcome: 'match', learn: ['C02XYZ'], expected: 'first sighting: any value, learned now' });
  });

  test('firstSeen: unknown withholds the points but still learns', () => {
    const verdict = evaluateColumn(column({ expect: { learned: true, firstSeen: 'unknown' } }), rows('C02XYZ'), ctx);
    expect(verdict).toMatchObject({ outcome: 'unknown', learn: ['C02XYZ'] });
  });

  test('then the learned value matches and a changed one mismatches (nothing new is learned)', () => {
    const c = column({ expect: { learned: true } });
    const known = { ...ctx, known: ['C02XYZ'] };
    expect(evaluateColumn(c, rows('C02XYZ'), known)).toMatchObject({ outcome: 'match', learn: [] });
    expect(evaluateColumn(c, rows('OTHER'), known)).toMatchObject({
      outcome: 'mismatch',
      learn: [],
      expected: 'a value seen before for this user (C02XYZ)',
      actual: ['OTHER'],
    });
  });

  test('a multi-row first sighting learns each distinct value once', () => {
    const verdict = evaluateColumn(column({ expect: { learned: true }, rows: 'all' }), rows('0', '0', '501'), ctx);
    expect(verdict.learn).toEqual(['0', '501']);
  });
});

describe('per-user, per-group and default expectations', () => {
  const selector = column({
    expect: {
      perUser: { 'Alice@Example.com': { values: ['alice-only'] } },
      perGroup: { staff: { values: ['staff-value'] }, admins: { values: ['admin-value'] } },
      default: { values: ['default-value'] },
    },
  });

  test('per-user wins over per-group (email compared case-insensitively)', () => {
    expect(evaluateColumn(selector, rows('alice-only'), ctx).outcome).toBe('match');
    expect(evaluateColumn(selector, rows('staff-value'), ctx).outcome).toBe('mismatch');
  });

  test('per-group wins over default; any of several groups matching counts', () => {
    const bob = { ...ctx, user: { email: 'bob@example.com', sub: 'bob', groups: ['staff', 'admins'] } };
    expect(evaluateColumn(selector, rows('admin-value'), bob).outcome).toBe('match');
    expect(evaluateColumn(selector, rows('staff-value'), bob).outcome).toBe('match');
    expect(evaluateColumn(selector, rows('default-value'), bob)).toMatchObject({ outcome: 'mismatch', expected: 'staff-value or admin-value' });
  });

  test('default applies to everyone else; without a default the column is skipped for them', () => {
    const carol = { ...ctx, user: { email: 'carol@example.com', sub: 'carol', groups: ['sales'] } };
    expect(evaluateColumn(selector, rows('default-value'), carol).outcome).toBe('match');
    const groupOnly = column({ expect: { perGroup: { windows: { learned: true } } } });
    expect(evaluateColumn(groupOnly, rows('S-1-5'), carol)).toMatchObject({ outcome: 'skipped', expected: 'no rule for this user' });
    // Even with no data: the column does not apply, so it is not unknown either.
    expect(evaluateColumn(groupOnly, [], carol).outcome).toBe('skipped');
  });
});
