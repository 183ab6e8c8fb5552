// Unit tests of the trust-profile schema and loader: the shipped default profile (config/) loads and is
// the source's table, and broken profiles are reported with their paths.
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { isGatewayError } from '../../../errors.ts';
import { loadTrustProfileFile, parseTrustProfileText } from './load-trust-profile.ts';
import type { OsqueryTable, TrustProfile } from './trust-profile.ts';

const DEFAULT_PROFILE = fileURLToPath(new URL('../../../../config/trust-profile.yaml', import.meta.url));

function problems(yaml: string): string[] {
  try {
    parseTrustProfileText(yaml, 'test.yaml');
  } catch (error) {
    if (!isGatewayError(error) || error.code !== 'TG_ERR_CONFIG_INVALID') throw error;
    return (error.details?.problems as { path: string; message: string }[]).map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected the profile to be rejected');
}

function osquery(profile: TrustProfile, name: string): OsqueryTable {
  const table = profile.sections.flatMap((s) => s.tables).find((t) => t.table === name);
  if (table?.kind !== 'osquery') throw new Error(`no osquery table ${name}`);
  return table;
}

describe('the default profile', () => {
  test('loads, validates and is the source table: sections, shares, weights, bonus', async () => {
    const profile = await loadTrustProfileFile(DEFAULT_PROFILE);
    expect(profile.bonus).toBe(1);
    expect(profile.maxSnapshotAge).toBe(7 * 86_400_000);
    const shape = profile.sections.map((s) => ({
      name: s.name,
      points: s.points,
      tables: s.tables.map((t) => [t.table, t.share, t.kind === 'osquery' ? Object.fromEntries(t.columns.map((c) => [c.name, c.weight])) : t.kind]),
    }));
    expect(shape).toEqual([
      {
        name: 'User',
        points: 33,
        tables: [
          ['logged_in_users', 1, { type: 20, user: 20, host: 20, time: 10, pid: 10, sid: 20 }],
          ['time', 1, { weekday: 10, year: 10, month: 10, day: 10, hour: 10, minutes: 10, seconds: 10, timezone: 30 }],
          ['users', 1, { uid: 20, gid: 20, username: 20, uuid: 20, type: 20 }],
        ],
      },
      {
        name: 'Device',
        points: 33,
        tables: [
          // The source's 10/15 (sum 25) scaled ×4: same proportions.
          ['kernel_info', 25, { version: 40, device: 60 }],
          ['arp_cache', 25, { address: 40, mac: 60 }],
          ['os_version', 25, { name: 20, version: 14, patch: 13, platform: 20, codename: 13, install_date: 20 }],
          ['system_info', 25, { hostname: 14, uuid: 16, hardware_vendor: 14, hardware_model: 14, hardware_serial: 14, computer_name: 14, local_hostname: 14 }],
        ],
      },
      {
        name: 'Application',
        points: 33,
        tables: [
          ['browser', 50, 'browser-fingerprint'],
          ['processes', 50, { pid: 15, name: 35, state: 15, uid: 35 }],
        ],
      },
    ]);
  });

  test('platform-specific columns are optional; varying columns have rules; timezone reads local_timezone', async () => {
    const profile = await loadTrustProfileFile(DEFAULT_PROFILE);
    const optional = profile.sections.flatMap((s) => s.tables).flatMap((t) => (t.kind === 'osquery' ? t.columns.filter((c) => c.optional).map((c) => `${t.table}.${c.name}`) : []));
    expect(optional).toEqual([
      'logged_in_users.sid',
      'users.type',
      'os_version.install_date',
      'system_info.hardware_vendor',
      'system_info.hardware_model',
      'system_info.hardware_serial',
      'system_info.computer_name',
      'system_info.local_hostname',
    ]);
    const timezone = osquery(profile, 'time').columns.find((c) => c.name === 'timezone');
    expect(timezone).toMatchObject({ from: 'local_timezone', expect: { learned: true, firstSeen: 'match' } });
    expect(osquery(profile, 'logged_in_users').columns.find((c) => c.name === 'time')?.expect).toEqual({ recentWithin: 30 * 86_400_000 });
    expect(osquery(profile, 'processes').query).toBe('processes');
    expect(Object.isFrozen(profile.sections[0])).toBe(true);
  });
});

const VALID = `
sections:
  - name: Device
    points: 99
    tables:
      - table: os_version
        columns:
          - { name: version, weight: 60, expect: { values: ['15.3.1'] } }
          - { name: name, weight: 40, expect: { learned: true } }
`;

describe('validation', () => {
  test('a minimal profile: defaults for bonus, share, query, rows, optional', () => {
    const profile = parseTrustProfileText(VALID, 'test.yaml');
    const table = osquery(profile, 'os_version');
    expect(profile.bonus).toBe(1);
    expect(table).toMatchObject({ share: 1, query: 'os_version' });
    expect(table.columns[0]).toMatchObject({ rows: 'any', optional: false, varies: false });
  });

  test('column weights must sum to 100, reported at the table', () => {
    expect(problems(VALID.replace('weight: 60', 'weight: 50'))).toEqual(['sections[0].tables[0].columns: column weights of os_version sum to 90, must be 100']);
  });

  test('section points + bonus must be 100', () => {
    expect(problems(VALID.replace('points: 99', 'points: 33'))).toEqual(['sections: section points + bonus sum to 34, must be 100']);
    expect(() => parseTrustProfileText(`bonus: 0\n${VALID.replace('points: 99', 'points: 100')}`, 't')).not.toThrow();
  });

  test('shares on every table or none; table names unique', () => {
    const twoTables = `${VALID}      - table: kernel_info\n        share: 5\n        columns: [{ name: version, weight: 100, expect: { present: true } }]\n`;
    expect(problems(twoTables)).toEqual(['sections[0].tables: give every table of the section a share, or none (equal shares)']);
    const duplicate = `${VALID}      - table: os_version\n        columns: [{ name: version, weight: 100, expect: { present: true } }]\n`;
    expect(problems(duplicate)).toEqual(['sections[0].tables[1].table: duplicate table "os_version"']);
  });

  test('expectation mistakes name the field: wrong type, unknown form, extra key, bad regex, empty range', () => {
    const at = 'sections[0].tables[0].columns[0].expect';
    expect(problems(VALID.replace("{ values: ['15.3.1'] }", "{ values: '15.3.1' }"))).toEqual([`${at}.values: Invalid input: expected array, received string`]);
    expect(problems(VALID.replace("{ values: ['15.3.1'] }", '{ valuez: [a] }'))[0]).toMatch(new RegExp(`^${at.replace(/[[\].]/g, '\\$&')}: expected one of the forms: values, pattern`));
    expect(problems(VALID.replace("{ values: ['15.3.1'] }", '{ values: [a], exact: true }'))).toEqual([`${at}.exact: unknown key`]);
    expect(problems(VALID.replace("{ values: ['15.3.1'] }", "{ pattern: '(' }"))[0]).toMatch(/expect\.pattern: not a regular expression/);
    expect(problems(VALID.replace("{ values: ['15.3.1'] }", '{ range: { min: 5, max: 1 } }'))).toEqual([`${at}.range: min must not exceed max`]);
    expect(problems(VALID.replace("{ values: ['15.3.1'] }", '{ recentWithin: soon }'))[0]).toMatch(/recentWithin: not a duration/);
  });

  test('unknown keys anywhere are rejected; a browser table takes no columns', () => {
    expect(problems(VALID.replace('points: 99', 'points: 99\n    weight: 3'))).toEqual(['sections[0].weight: unknown key']);
    const browser = `${VALID}      - { table: browser, kind: browser-fingerprint, columns: [] }\n`;
    expect(problems(browser)).toContain('sections[0].tables[1].columns: unknown key');
  });

  test('per-user keys are lower-cased so they match emails of any case', () => {
    const yaml = VALID.replace("{ values: ['15.3.1'] }", "{ perUser: { Alice@Example.com: { values: ['14'] } }, default: { values: ['15'] } }");
    const column = osquery(parseTrustProfileText(yaml, 't'), 'os_version').columns[0];
    expect(column?.expect).toMatchObject({ perUser: { 'alice@example.com': { values: ['14'] } }, default: { values: ['15'] } });
  });

  test('YAML syntax errors are reported by line', () => {
    expect(problems('sections: [\n')[0]).toMatch(/^line \d+: /);
  });
});
