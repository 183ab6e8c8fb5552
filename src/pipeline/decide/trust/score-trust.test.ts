// Unit tests of the trust score with hand-computed totals: the default profile on a perfect Mac (100),
// on a device with no data (0) and on a mixed one; shares and weights, unknowns, staleness, optional
// columns, the bonus rule, learned values end to end, and purity.
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { browserFingerprint } from './browser-fingerprint.ts';
import { createMemoryLearnedValues } from './learned-values.ts';
import { loadTrustProfileFile } from './load-trust-profile.ts';
import { loadLearnedFor, rememberLearned, scoreTrust, type TrustInput } from './score-trust.ts';
import type { Expectation } from './expectation-schema.ts';
import type { TrustProfile, TrustTable } from './trust-profile.ts';
import { ALICE, CHROME_MAC_HEADERS, DAY, FIREFOX_WINDOWS_HEADERS, NOW, macLearned, macSnapshots, mixedSnapshots } from './test-fixtures.ts';
import { profile, snapshot, snapshots } from './test-fixtures.ts';

const DEFAULT_PROFILE = fileURLToPath(new URL('../../../../config/trust-profile.yaml', import.meta.url));
const CHROME = browserFingerprint(CHROME_MAC_HEADERS) as string;
let defaults: TrustProfile;
beforeAll(async () => {
  defaults = await loadTrustProfileFile(DEFAULT_PROFILE);
});

/** The default profile with one table replaced (for tests that tweak a rule). */
function withTable(name: string, change: (table: TrustTable) => TrustTable): TrustProfile {
  return { ...defaults, sections: defaults.sections.map((s) => ({ ...s, tables: s.tables.map((t) => (t.table === name ? change(t) : t)) })) };
}

function macInput(overrides: Partial<TrustInput> = {}): TrustInput {
  return {
    profile: defaults,
    snapshots: macSnapshots(),
    user: ALICE,
    browser: { fingerprint: CHROME, known: [CHROME] },
    learned: macLearned(),
    nowMs: NOW,
    ...overrides,
  };
}

describe('complete scores with the default profile', () => {
  test('a perfect Mac scores 100: 33 + 33 + 33 + bonus 1', () => {
    // Every counted column matches. Mac-absent optional columns (sid, users.type, install_date) are
    // skipped, so e.g. logged_in_users counts 80 of its 100 weight and scores 80/80 = 1.
    const result = scoreTrust(macInput());
    expect(result.sections.map((s) => [s.name, s.points, s.full])).toEqual([
      ['User', 33, true],
      ['Device', 33, true],
      ['Application', 33, true],
    ]);
    expect(result.bonus).toEqual({ points: 1, maxPoints: 1 });
    expect(result.score).toBe(100);
    expect(result.unknownColumns).toBe(0);
    expect(result.learn).toEqual([]);
    const sid = result.sections[0]?.tables[0]?.columns.find((c) => c.name === 'sid');
    expect(sid).toMatchObject({ outcome: 'skipped', points: 0 });
  });

  test('a device with no data at all scores 0: every column unknown, nothing learned', () => {
    const result = scoreTrust(macInput({ snapshots: new Map(), browser: { fingerprint: null, known: [] }, learned: new Map() }));
    expect(result.score).toBe(0);
    expect(result.sections.map((s) => s.points)).toEqual([0, 0, 0]);
    expect(result.bonus.points).toBe(0);
    // 6 + 8 + 5 (User) + 2 + 2 + 6 + 7 (Device) + 1 + 4 (Application) = 41 columns, optional ones included.
    expect(result.unknownColumns).toBe(41);
    expect(result.sections.flatMap((s) => s.tables).every((t) => t.kind === 'browser-fingerprint' || (t.missing && t.status === 'missing'))).toBe(true);
    expect(result.learn).toEqual([]);
  });

  test('a mixed device: 22 + 25.27 + 10.73 = 57.99 → 58 (no bonus)', () => {
    const firefox = browserFingerprint(FIREFOX_WINDOWS_HEADERS);
    const result = scoreTrust(macInput({ snapshots: mixedSnapshots(), browser: { fingerprint: firefox, known: [CHROME] } }));

    // User: logged_in_users 1, time missing 0, users 1 → 33 × (1 + 0 + 1) / 3 = 22
    // Device, each table at most 33 × 25/100 = 8.25:
    //   kernel_info 1 → 8.25
    //   arp_cache: address 40 ✓ (10/8), mac 60 ✗ (new network) → 40/100 × 8.25 = 3.3
    //   os_version: counted 80 (install_date skipped); version 14 ✗, codename 13 ✗ → 53/80 = 0.6625 → 5.465625
    //   system_info 1 → 8.25                      → Device = 25.265625 (shown 25.27)
    // Application, each table at most 33 × 50/100 = 16.5:
    //   browser: Firefox/Windows vs known Chrome/macOS → 0
    //   processes: name 35 ✗ (fleet-desktop missing) → 65/100 × 16.5 = 10.725  → Application = 10.725 (shown 10.73)
    // Total 22 + 25.265625 + 10.725 = 57.990625, no section full → no bonus → 58.
    expect(result.sections.map((s) => s.points)).toEqual([22, 25.27, 10.73]);
    const device = result.sections[1]?.tables.map((t) => [t.table, t.points, t.maxPoints, t.ratio]);
    expect(device).toEqual([
      ['kernel_info', 8.25, 8.25, 1],
      ['arp_cache', 3.3, 8.25, 0.4],
      ['os_version', 5.47, 8.25, 0.66],
      ['system_info', 8.25, 8.25, 1],
    ]);
    // version's share of os_version: 8.25 × 14/80 = 1.44375 → 0 here since it mismatched; name scored 8.25 × 20/80 = 2.0625
    const os = result.sections[1]?.tables[2]?.columns;
    expect(os?.find((c) => c.name === 'name')?.points).toBe(2.06);
    expect(os?.find((c) => c.name === 'version')).toMatchObject({ outcome: 'mismatch', actual: ['14.6.1'], points: 0 });
    expect(result.bonus.points).toBe(0);
    expect(result.score).toBe(58);
    expect(result.unknownColumns).toBe(8); // the time table's 8 columns
    expect(result.learn).toEqual([]); // nothing first-seen: every learned key already had values
  });

  test('a first visit from a perfect Mac: trust on first use scores 100 and lists what to learn', () => {
    const result = scoreTrust(macInput({ learned: new Map(), browser: { fingerprint: CHROME, known: [] } }));
    expect(result.score).toBe(100);
    expect(result.learn).toContainEqual({ key: 'system_info.hardware_serial', value: 'C02XYZ' });
    expect(result.learn).toContainEqual({ key: 'time.timezone', value: 'Europe/Berlin' });
    expect(result.learn).toContainEqual({ key: 'browser', value: CHROME });
    expect(result.learn.filter((l) => l.key === 'processes.uid').map((l) => l.value)).toEqual(['0', '501']);
    expect(result.learn).toHaveLength(22);
  });
});

describe('arithmetic of shares and weights', () => {
  // A: 60 points, t1 (share 3) and t2 (share 1); B: 40 points, t3. No bonus.
  const custom = profile({
    bonus: 0,
    sections: [
      {
        name: 'A',
        points: 60,
        tables: [
          { table: 't1', share: 3, columns: [{ name: 'a', weight: 70, expect: { values: ['x'] } }, { name: 'b', weight: 30, expect: { values: ['y'] } }] },
          { table: 't2', share: 1, columns: [{ name: 'c', weight: 100, expect: { present: true } }] },
        ],
      },
      {
        name: 'B',
        points: 40,
        tables: [{ table: 't3', columns: [{ name: 'd', weight: 50, optional: true, expect: { present: true } }, { name: 'e', weight: 50, expect: { values: ['ok'] } }] }],
      },
    ],
  });
  const input = (rows: Record<string, Record<string, string>[]>): TrustInput => ({
    profile: custom,
    snapshots: snapshots(...Object.entries(rows).map(([q, r]) => snapshot(q, r))),
    user: ALICE,
    browser: { fingerprint: null, known: [] },
    learned: new Map(),
    nowMs: NOW,
  });

  test('section = points × Σ(share × table score) / Σ shares; an optional absent column leaves the total', () => {
    const result = scoreTrust(input({ t1: [{ a: 'x', b: 'z' }], t2: [{ c: '' }], t3: [{ e: 'ok' }] }));
    // t1: a 70 ✓, b 30 ✗ → 0.7; t2: c "" ✗ → 0; A = 60 × (3 × 0.7 + 1 × 0) / 4 = 60 × 2.1 / 4 = 31.5
    // t3: d absent + optional → skipped, e ✓ → 50/50 = 1; B = 40
    // Total 71.5 → 72
    expect(result.sections.map((s) => s.points)).toEqual([31.5, 40]);
    expect(result.sections[0]?.tables.map((t) => [t.points, t.maxPoints])).toEqual([[31.5, 45], [0, 15]]);
    expect(result.sections[0]?.tables[0]?.columns.map((c) => c.points)).toEqual([31.5, 0]); // 45 × 70/100, 0
    expect(result.sections[1]?.tables[0]?.columns.map((c) => [c.outcome, c.points])).toEqual([['skipped', 0], ['match', 40]]);
    expect(result.score).toBe(72);
  });

  test('a missing table scores 0 but stays in the share total; empty rows count as missing', () => {
    const result = scoreTrust(input({ t1: [{ a: 'x', b: 'y' }], t2: [], t3: [{ d: '1', e: 'ok' }] }));
    // A = 60 × (3 × 1 + 1 × 0) / 4 = 45; B = 40 → 85
    expect(result.sections[0]?.tables[1]).toMatchObject({ missing: true, status: 'missing', points: 0, maxPoints: 15 });
    expect(result.score).toBe(85);
    expect(result.unknownColumns).toBe(1);
  });

  test('a table whose every column was skipped leaves its section total', () => {
    const result = scoreTrust(input({ t1: [{ a: 'x', b: 'y' }], t2: [{ c: 'v' }], t3: [{ d: '', e: 'ok' }] }));
    // d is empty and optional → skipped; e decides t3 alone: B = 40. A = 60. Total 100.
    expect(result.score).toBe(100);
    const skippedOnly = profile({
      bonus: 0,
      sections: [{ name: 'S', points: 100, tables: [
        { table: 'u1', columns: [{ name: 'x', weight: 100, optional: true, expect: { present: true } }] },
        { table: 'u2', columns: [{ name: 'y', weight: 100, expect: { present: true } }] },
      ] }],
    });
    const r = scoreTrust({ ...input({}), profile: skippedOnly, snapshots: snapshots(snapshot('u1', [{ other: '1' }]), snapshot('u2', [{ y: '1' }])) });
    // u1 counts nothing, so its share leaves the total: S = 100 × (1 × 1) / 1 = 100
    expect(r.sections[0]?.tables.map((t) => [t.table, t.points, t.maxPoints])).toEqual([['u1', 0, 0], ['u2', 100, 100]]);
    expect(r.score).toBe(100);
  });

  test('stale snapshots count as missing (profile maxSnapshotAge, per-table maxAge overrides)', () => {
    const aged = { ...custom, maxSnapshotAge: DAY };
    const old = snapshots(snapshot('t1', [{ a: 'x', b: 'y' }], NOW - 2 * DAY), snapshot('t2', [{ c: 'v' }]), snapshot('t3', [{ e: 'ok' }]));
    const result = scoreTrust({ ...input({}), profile: aged, snapshots: old });
    // t1 stale → 0: A = 60 × 1/4 = 15; B = 40 → 55
    expect(result.sections[0]?.tables[0]).toMatchObject({ status: 'stale', missing: true, observedAtMs: NOW - 2 * DAY });
    expect(result.score).toBe(55);
  });
});

describe('the bonus and rounding', () => {
  test('a tiny shortfall never rounds up to 100: the bonus needs every section full', () => {
    const p = profile({
      sections: [{ name: 'S', points: 99, tables: [{ table: 't', columns: [
        { name: 'big', weight: 99.9, expect: { present: true } },
        { name: 'tiny', weight: 0.1, expect: { values: ['yes'] } },
      ] }] }],
    });
    const base = { profile: p, user: ALICE, browser: { fingerprint: null, known: [] }, learned: new Map(), nowMs: NOW };
    // 99 × 99.9/100 = 98.901 → 99, no bonus
    expect(scoreTrust({ ...base, snapshots: snapshots(snapshot('t', [{ big: '1', tiny: 'no' }])) }).score).toBe(99);
    // 99 + bonus 1 = 100
    expect(scoreTrust({ ...base, snapshots: snapshots(snapshot('t', [{ big: '1', tiny: 'yes' }])) }).score).toBe(100);
  });

  test('fractional section points that sum to 100 still give exactly 100', () => {
    const table = (name: string) => ({ table: name, columns: [{ name: 'c', weight: 100, expect: { present: true as const } }] });
    const p = profile({ bonus: 0, sections: [
      { name: 'A', points: 33.3, tables: [table('a')] },
      { name: 'B', points: 33.3, tables: [table('b')] },
      { name: 'C', points: 33.4, tables: [table('c')] },
    ] });
    const data = snapshots(snapshot('a', [{ c: '1' }]), snapshot('b', [{ c: '1' }]), snapshot('c', [{ c: '1' }]));
    expect(scoreTrust({ profile: p, snapshots: data, user: ALICE, browser: { fingerprint: null, known: [] }, learned: new Map(), nowMs: NOW }).score).toBe(100);
  });
});

describe('browser fingerprint table', () => {
  test('match, mismatch, first sighting (learned), no headers (unknown), version tolerance', () => {
    const browser = (fingerprint: string | null, known: string[]) => scoreTrust(macInput({ browser: { fingerprint, known } })).sections[2]?.tables[0];
    expect(browser(CHROME, [CHROME])).toMatchObject({ points: 16.5, columns: [{ name: 'fingerprint', outcome: 'match' }] });
    expect(browser('firefox/125|windows||de', [CHROME])).toMatchObject({ points: 0, columns: [{ outcome: 'mismatch', actual: ['firefox/125|windows||de'] }] });
    expect(browser(CHROME, [])).toMatchObject({ points: 16.5, columns: [{ outcome: 'match' }] });
    expect(browser(null, [CHROME])).toMatchObject({ points: 0, columns: [{ outcome: 'unknown', actual: null }] });
    const updated = CHROME.replace('/124', '/125');
    expect(browser(updated, [CHROME])?.columns[0]?.outcome).toBe('mismatch');
    const tolerant = withTable('browser', (t) => ({ ...t, matchVersion: false }));
    expect(scoreTrust(macInput({ profile: tolerant, browser: { fingerprint: updated, known: [CHROME] } })).score).toBe(100);
  });
});

describe('learned values end to end, and purity', () => {
  test('loadLearnedFor gathers every learned key and "browser"; remembered first sightings then decide', async () => {
    const store = createMemoryLearnedValues({ maxUsers: 10 });
    const empty = await loadLearnedFor(defaults, store, ALICE.sub);
    expect([...empty.keys()].sort()).toEqual([...macLearned().keys(), 'browser'].sort());
    const first = scoreTrust(macInput({ learned: empty, browser: { fingerprint: CHROME, known: empty.get('browser') ?? [] } }));
    await rememberLearned(store, ALICE.sub, first.learn);

    const learned = await loadLearnedFor(defaults, store, ALICE.sub);
    expect(learned.get('system_info.hardware_serial')).toEqual(['C02XYZ']);
    const swapped = macSnapshots();
    const system = swapped.get('system_info');
    swapped.set('system_info', snapshot('system_info', [{ ...system?.rows[0], hardware_serial: 'OTHER' }]));
    const second = scoreTrust(macInput({ snapshots: swapped, learned, browser: { fingerprint: CHROME, known: learned.get('browser') ?? [] } }));
    // hardware_serial 14 of 100 ✗ → system_info 86/100 × 8.25 = 7.095; Device 33 − 1.155 = 31.845; total 97.845 → 98, no bonus
    expect(second.sections[1]?.points).toBe(31.85);
    expect(second.score).toBe(98);
    expect(second.learn).toEqual([]);
  });

  test('per-group expectation in a complete score: contractors must log in during working hours', () => {
    const hour: Expectation = {
      perUser: undefined,
      perGroup: { contractors: { range: { min: 13, max: 18 } } },
      default: { range: { min: 0, max: 23 } },
    };
    const withHours = withTable('time', (t) =>
      t.kind === 'osquery' ? { ...t, columns: t.columns.map((c) => (c.name === 'hour' ? { ...c, expect: hour } : c)) } : t,
    );
    expect(scoreTrust(macInput({ profile: withHours })).score).toBe(100);
    // hour 11 is outside 13–18: time table 90/100 → User 33 × (1 + 0.9 + 1)/3 = 31.9; total 97.9 → 98
    const contractor = scoreTrust(macInput({ profile: withHours, user: { ...ALICE, groups: ['contractors'] } }));
    expect(contractor.sections[0]?.points).toBe(31.9);
    expect(contractor.score).toBe(98);
  });

  test('scoring is pure: same input, same output; inputs untouched', () => {
    const input = macInput({ learned: new Map(), browser: { fingerprint: CHROME, known: [] } });
    const before = JSON.stringify([...input.snapshots.values()]);
    expect(scoreTrust(input)).toEqual(scoreTrust(input));
    expect(JSON.stringify([...input.snapshots.values()])).toBe(before);
    expect(input.learned.size).toBe(0);
  });
});
