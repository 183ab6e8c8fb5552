// The demo's results writer against a real temp file: Fleet-format snapshot lines the gateway's own
// parser accepts, appended per round, offline hosts once, clock and relative-time values resolved.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseOsqueryResultLine } from '../pipeline/gather-posture/results/parse-osquery-result.ts';
import { loadResultsData, parseResultsData, type ResultsHost } from './osquery-results-data.ts';
import { calendarTime, startOsqueryResultsWriter } from './osquery-results-writer.ts';

const NOW = Date.parse('2026-03-04T10:20:30Z');
const DAY = 86_400_000;

const HOSTS = parseResultsData(
  `
hosts:
  - uuid: HOST-A
    hostname: a.local
    username: ann
    queries:
      logged_in_users: [{ type: user, user: ann, host: '', time: { ago: 2d }, pid: 7 }]
      time: [{ $clock: true, local_timezone: Europe/Berlin }]
  - uuid: HOST-B
    hostname: b.local
    username: ben
    offlineSince: 4d
    queries:
      time: [{ $clock: '2001-01-01T00:00:00Z', year: '1999' }]
`,
  'inline',
);

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trustgate-writer-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function readLines(file: string): Promise<Record<string, any>[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, any>);
}

describe('osquery results writer', () => {
  test('writes one Fleet snapshot line per query per host, which the result parser accepts', async () => {
    const file = path.join(dir, 'var', 'osquery_result.log');
    const writer = await startOsqueryResultsWriter({ file, hosts: HOSTS, intervalMs: 3_600_000, now: () => NOW });
    await writer.close();
    const lines = await readLines(file);
    expect(lines.map((l) => `${l.hostIdentifier} ${l.name}`)).toEqual(['HOST-A pack/Global/logged_in_users', 'HOST-A pack/Global/time', 'HOST-B pack/Global/time']);
    const first = lines[0] as Record<string, any>;
    expect(first).toMatchObject({ action: 'snapshot', unixTime: NOW / 1000, epoch: 0, counter: 0, numerics: false, calendarTime: 'Wed Mar 04 10:20:30 2026 UTC' });
    expect(first.decorations).toEqual({ host_uuid: 'HOST-A', hostname: 'a.local', username: 'ann' });
    // Values are osquery's strings; `{ ago: 2d }` is Unix seconds.
    expect(first.snapshot).toEqual([{ type: 'user', user: 'ann', host: '', time: String((NOW - 2 * DAY) / 1000), pid: '7' }]);
    const raw = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    for (const line of raw) expect(parseOsqueryResultLine(line).result?.format).toBe('snapshot');
    expect(parseOsqueryResultLine(raw[0] as string).result?.envelope).toMatchObject({ query: 'logged_in_users', pack: 'Global', hostUuid: 'HOST-A', username: 'ann' });
  });

  test('fills the time table from the clock, or from a wrong device clock, with given columns winning', async () => {
    const file = path.join(dir, 'r.log');
    await (await startOsqueryResultsWriter({ file, hosts: HOSTS, intervalMs: 3_600_000, now: () => NOW })).close();
    const [, good, reset] = await readLines(file);
    expect(good?.snapshot[0]).toMatchObject({ weekday: 'Wednesday', year: '2026', month: '3', day: '4', hour: '10', minutes: '20', seconds: '30', timezone: 'UTC', local_timezone: 'Europe/Berlin' });
    // The offline host's one report was 4 days before start; its clock then stood 4 days before 2001.
    expect(reset?.unixTime).toBe((NOW - 4 * DAY) / 1000);
    expect(reset?.snapshot[0]).toMatchObject({ year: '1999', month: '12', day: '28' });
  });

  test('appends a round for online hosts on every tick and never again for an offline host', async () => {
    const file = path.join(dir, 'r.log');
    let now = NOW;
    const writer = await startOsqueryResultsWriter({ file, hosts: HOSTS, intervalMs: 3_600_000, now: () => now });
    now += 60_000;
    await writer.writeNow();
    await writer.close();
    const lines = await readLines(file);
    expect(lines.filter((l) => l.hostIdentifier === 'HOST-A').map((l) => l.unixTime)).toEqual([NOW / 1000, NOW / 1000, NOW / 1000 + 60, NOW / 1000 + 60]);
    expect(lines.filter((l) => l.hostIdentifier === 'HOST-B')).toHaveLength(1);
  });

  test('the demo data loads and covers the Fleet simulator hosts alice, bob, carol and dave', async () => {
    const hosts: ResultsHost[] = await loadResultsData(fileURLToPath(new URL('../../config/demo-osquery-results.yaml', import.meta.url)));
    expect(hosts.map((h) => h.username)).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect(hosts.find((h) => h.username === 'alice')?.uuid).toBe('8D2C3A9E-5F41-4B7A-9C21-6E3F0B1D4A57');
  });

  test('rejects data that is not rows of text or numbers', () => {
    expect(() => parseResultsData('hosts: [{ uuid: X, hostname: x, username: x, queries: { time: [{ year: true }] } }]', 'bad.yaml')).toThrow(/bad\.yaml: .*column values are text or numbers/);
    expect(calendarTime(Date.parse('2025-01-29T22:17:17Z'))).toBe('Wed Jan 29 22:17:17 2025 UTC');
  });
});
