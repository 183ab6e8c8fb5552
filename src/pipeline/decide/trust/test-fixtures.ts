// Shared test data for the trust-score tests: a well-behaved Mac's snapshots, the learned values that
// fit them, a Chrome request's headers, and helpers that build profiles and columns through the schema.
import type { QuerySnapshot } from '../../gather-posture/results-source.ts';
import type { ExpectationInput } from './expectation-schema.ts';
import { trustProfileSchema, type OsqueryTable, type TrustColumn, type TrustProfile, type TrustProfileInput } from './trust-profile.ts';

/** Sunday 22 November 2026, 12:00 UTC. */
export const NOW = Date.parse('2026-11-22T12:00:00Z');
export const HOUR = 3600_000;
export const DAY = 24 * HOUR;

export const ALICE = { email: 'alice@example.com', sub: 'idp|alice', groups: ['staff'] } as const;

export function snapshot(query: string, rows: Record<string, string>[], observedAtMs = NOW - HOUR): QuerySnapshot {
  return { query, pack: 'Global', rows, observedAtMs, hostUuid: 'HOST-1', hostIdentifier: 'HOST-1', username: 'alice' };
}

export function snapshots(...list: QuerySnapshot[]): ReadonlyMap<string, QuerySnapshot> {
  return new Map(list.map((s) => [s.query, s]));
}

/** One profile column with the schema's defaults applied (regexes compiled, rows: any, …). */
export function column(input: { expect: ExpectationInput; rows?: 'any' | 'all'; optional?: boolean; from?: string }): TrustColumn {
  const profile = trustProfileSchema.parse({
    bonus: 0,
    sections: [{ name: 'S', points: 100, tables: [{ table: 't', columns: [{ name: 'c', weight: 100, ...input }] }] }],
  });
  return (profile.sections[0]?.tables[0] as OsqueryTable).columns[0] as TrustColumn;
}

export function profile(input: TrustProfileInput): TrustProfile {
  return trustProfileSchema.parse(input);
}

/** A Mac in good standing: every default-profile table, with values the learned store below knows. */
export function macSnapshots(): Map<string, QuerySnapshot> {
  const list = [
    snapshot('logged_in_users', [{ type: 'user', user: 'alice', tty: 'console', host: '', time: String((NOW - 2 * DAY) / 1000), pid: '143' }]),
    snapshot('time', [
      { weekday: 'Sunday', year: '2026', month: '11', day: '22', hour: '11', minutes: '0', seconds: '0', timezone: 'UTC', local_timezone: 'Europe/Berlin' },
    ]),
    snapshot('users', [{ uid: '501', gid: '20', username: 'alice', uuid: 'USER-UUID-A' }]),
    snapshot('kernel_info', [{ version: '24.3.0', device: '/dev/disk3s1' }]),
    snapshot('arp_cache', [{ address: '192.168.1.1', mac: 'aa:bb:cc:dd:ee:01' }]),
    snapshot('os_version', [{ name: 'macOS', version: '15.3.1', patch: '1', platform: 'darwin', codename: 'Sequoia' }]),
    snapshot('system_info', [
      {
        hostname: 'alice-mbp',
        uuid: 'HOST-1',
        hardware_vendor: 'Apple Inc.',
        hardware_model: 'Mac15,3',
        hardware_serial: 'C02XYZ',
        computer_name: 'Alice MacBook Pro',
        local_hostname: 'alice-mbp',
      },
    ]),
    snapshot('processes', [
      { pid: '301', name: 'osqueryd', state: 'S', uid: '0' },
      { pid: '288', name: 'orbit', state: 'S', uid: '0' },
      { pid: '1402', name: 'fleet-desktop', state: 'R', uid: '501' },
    ]),
  ];
  return new Map(list.map((s) => [s.query, s]));
}

/** The Mac after a trip: no time results, a new network, an older macOS, Fleet Desktop not running. */
export function mixedSnapshots(): Map<string, QuerySnapshot> {
  const mixed = macSnapshots();
  mixed.delete('time');
  mixed.set('arp_cache', snapshot('arp_cache', [{ address: '10.0.0.1', mac: 'aa:bb:cc:dd:ee:99' }]));
  mixed.set('os_version', snapshot('os_version', [{ name: 'macOS', version: '14.6.1', patch: '1', platform: 'darwin', codename: 'Sonoma' }]));
  mixed.set(
    'processes',
    snapshot('processes', [
      { pid: '301', name: 'osqueryd', state: 'S', uid: '0' },
      { pid: '288', name: 'orbit', state: 'S', uid: '0' },
    ]),
  );
  return mixed;
}

/** What the store holds for alice after earlier visits from the Mac above. */
export function macLearned(): Map<string, readonly string[]> {
  return new Map<string, readonly string[]>([
    ['logged_in_users.sid', []],
    ['time.timezone', ['Europe/Berlin']],
    ['users.uid', ['501']],
    ['users.gid', ['20']],
    ['users.uuid', ['USER-UUID-A']],
    ['kernel_info.version', ['24.3.0']],
    ['kernel_info.device', ['/dev/disk3s1']],
    ['arp_cache.mac', ['aa:bb:cc:dd:ee:01']],
    ['os_version.name', ['macOS']],
    ['os_version.version', ['15.3.1']],
    ['os_version.patch', ['1']],
    ['os_version.platform', ['darwin']],
    ['os_version.codename', ['Sequoia']],
    ['os_version.install_date', []],
    ['system_info.hostname', ['alice-mbp']],
    ['system_info.uuid', ['HOST-1']],
    ['system_info.hardware_vendor', ['Apple Inc.']],
    ['system_info.hardware_model', ['Mac15,3']],
    ['system_info.hardware_serial', ['C02XYZ']],
    ['system_info.computer_name', ['Alice MacBook Pro']],
    ['system_info.local_hostname', ['alice-mbp']],
    ['processes.uid', ['0', '501']],
  ]);
}

export const CHROME_MAC_HEADERS = {
  'user-agent':
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'sec-ch-ua': '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
  'sec-ch-ua-mobile': '?0',
  'sec-ch-ua-platform': '"macOS"',
  'accept-language': 'en-US,en;q=0.9,de;q=0.8',
};

export const FIREFOX_WINDOWS_HEADERS = {
  'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'accept-language': 'de-DE,de;q=0.9',
};
