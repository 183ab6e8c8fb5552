// Unit tests of the explanations: the decision-log object lists only what fell short, and the admin
// lines name each short table with its ratio, what was expected and what was seen.
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, test } from 'vitest';
import { browserFingerprint } from './browser-fingerprint.ts';
import { explainTrust, trustLogEntry } from './explain-trust.ts';
import { loadTrustProfileFile } from './load-trust-profile.ts';
import type { TrustProfile } from './trust-profile.ts';
import { scoreTrust, type TrustInput } from './score-trust.ts';
import { ALICE, CHROME_MAC_HEADERS, FIREFOX_WINDOWS_HEADERS, NOW, macLearned, macSnapshots, mixedSnapshots } from './test-fixtures.ts';
import { profile, snapshot, snapshots } from './test-fixtures.ts';

const CHROME = browserFingerprint(CHROME_MAC_HEADERS) as string;
let defaults: TrustProfile;
beforeAll(async () => {
  defaults = await loadTrustProfileFile(fileURLToPath(new URL('../../../../config/trust-profile.yaml', import.meta.url)));
});

function score(overrides: Partial<TrustInput>) {
  const base = { profile: defaults, snapshots: macSnapshots(), user: ALICE, learned: macLearned(), nowMs: NOW };
  return scoreTrust({ ...base, browser: { fingerprint: CHROME, known: [CHROME] }, ...overrides });
}

function mixedScore() {
  return score({ snapshots: mixedSnapshots(), browser: { fingerprint: browserFingerprint(FIREFOX_WINDOWS_HEADERS), known: [CHROME] } });
}

test('admin lines: total, then each section with the tables that fell short and why', () => {
  expect(explainTrust(mixedScore())).toEqual([
    'Trust 58/100 (bonus 0/1: not every section full; 8 column(s) unknown)',
    'User 22/33 — time 0: no data (all columns unknown)',
    'Device 25.27/33 — arp_cache 0.4: mac mismatch (expected a value seen before for this user (aa:bb:cc:dd:ee:01), saw aa:bb:cc:dd:ee:99)' +
      ' — os_version 0.66: version mismatch (expected a value seen before for this user (15.3.1), saw 14.6.1);' +
      ' codename mismatch (expected a value seen before for this user (Sequoia), saw Sonoma)',
    'Application 10.73/33 — browser 0: fingerprint mismatch (expected a browser this user was seen with (Chrome 124 on macOS (en)), saw Firefox 125 on Windows (de))' +
      ' — processes 0.65: name mismatch (expected all of osqueryd, orbit, fleet-desktop, saw osqueryd, orbit)',
  ]);
});

test('a perfect device explains in four short lines', () => {
  expect(explainTrust(score({}))).toEqual(['Trust 100/100 (bonus 1/1: every section full)', 'User 33/33', 'Device 33/33', 'Application 33/33']);
});

test('managed values read as "one of"; unknown columns say nothing was reported; details list every column', () => {
  const p = profile({
    sections: [{ name: 'Device', points: 99, tables: [{ table: 'os_version', columns: [
      { name: 'version', weight: 40, expect: { values: ['15.3.1', '15.3.2'] } },
      { name: 'build', weight: 10, optional: true, expect: { present: true } },
      { name: 'patch', weight: 50, expect: { range: { min: 1 } } },
    ] }] }],
  });
  const os = score({ profile: p, snapshots: snapshots(snapshot('os_version', [{ version: '14.6.1' }])), browser: { fingerprint: null, known: [] } });
  // version ✗, build skipped (optional, absent), patch unknown (absent) → 0 of counted 90 → 0
  expect(explainTrust(os)).toEqual([
    'Trust 0/100 (bonus 0/1: not every section full; 1 column(s) unknown)',
    'Device 0/99 — os_version 0: version mismatch (expected one of 15.3.1, 15.3.2, saw 14.6.1); patch unknown (no value reported; expected a number of at least 1)',
  ]);
  expect(explainTrust(os, { detailed: true }).slice(2)).toEqual([
    '  os_version.version mismatch 0 (weight 40; expected one of 15.3.1, 15.3.2, saw 14.6.1)',
    '  os_version.build skipped (weight 10 not counted)',
    '  os_version.patch unknown 0 (weight 50; expected a number of at least 1)',
  ]);
});

test('decision-log entry: section points, missing tables, and only the shortfalls', () => {
  const entry = trustLogEntry(mixedScore());
  expect(entry).toMatchObject({
    score: 58,
    bonus: 0,
    unknownColumns: 8,
    sections: { User: 22, Device: 25.27, Application: 10.73 },
    missingTables: ['time: missing'],
    learned: 0,
  });
  expect(entry.shortfalls.map((s) => `${s.column} ${s.outcome}`)).toEqual([
    'arp_cache.mac mismatch',
    'os_version.version mismatch',
    'os_version.codename mismatch',
    'browser.fingerprint mismatch',
    'processes.name mismatch',
  ]);
  expect(entry.shortfalls[1]).toEqual({
    column: 'os_version.version',
    outcome: 'mismatch',
    expected: 'a value seen before for this user (15.3.1)',
    actual: ['14.6.1'],
  });
  // Plain data: survives a JSON round trip unchanged.
  expect(JSON.parse(JSON.stringify(entry))).toEqual(entry);
});
