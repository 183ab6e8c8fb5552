// The result-log source against a real file in a temp dir: it follows appends, waits for partial
// lines, survives rotation and truncation, and answers lookups from its index.
import { appendFile, mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createLineFollower } from '../../src/pipeline/gather-posture/results/line-follower.ts';
import { createResultLogSource } from '../../src/pipeline/gather-posture/results/result-log-source.ts';
import type { ResultLogSource, ResultLogSourceOptions } from '../../src/pipeline/gather-posture/results/result-log-source.ts';

const HOST = 'F5B29579-E946-46A2-BB0F-7A8D1E304940';
const OTHER_HOST = '00000000-0000-0000-0000-000000000002';
const NOW = 1_738_200_000_000;

interface LineSpec {
  query: string;
  atS: number;
  rows: Record<string, string>[];
  host?: string;
  username?: string;
  /** Event format: one line per row, `columns` + action "snapshot". */
  event?: boolean;
}

/** Lines in the shape Fleet's result log writes (see fixtures/osquery/fleet-result-snapshot*.json*). */
function lines(spec: LineSpec): string {
  const host = spec.host ?? HOST;
  const envelope = {
    name: `pack/Global/${spec.query}`,
    hostIdentifier: host,
    calendarTime: new Date(spec.atS * 1000).toUTCString(),
    unixTime: spec.atS,
    epoch: 0,
    counter: 0,
    numerics: false,
    decorations: { host_uuid: host, hostname: 'foobar.local', ...(spec.username === undefined ? {} : { username: spec.username }) },
  };
  const objects = spec.event ? spec.rows.map((columns) => ({ ...envelope, columns, action: 'snapshot' })) : [{ snapshot: spec.rows, action: 'snapshot', ...envelope }];
  return objects.map((object) => `${JSON.stringify(object)}\n`).join('');
}

let dir = '';
let file = '';
let source: ResultLogSource | undefined;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trustgate-result-log-'));
  file = path.join(dir, 'osqueryd.results.log');
});

afterEach(async () => {
  await source?.close();
  source = undefined;
  await rm(dir, { recursive: true, force: true });
});

function start(options: Partial<ResultLogSourceOptions> = {}): ResultLogSource {
  // Lines carry small unixTimes; a lookback reaching back to 1970 keeps them all answerable.
  source = createResultLogSource({ file, pollIntervalMs: 20, now: () => NOW, lookbackMs: NOW, ...options });
  return source;
}

async function rowsOf(query: string, subject: { hostUuid?: string; username?: string } = { hostUuid: HOST }): Promise<unknown> {
  return (await source?.latest(subject))?.get(query)?.rows;
}

describe('result-log source', () => {
  test('indexes existing lines, follows appends, and keeps only the newest snapshot per query', async () => {
    await writeFile(file, lines({ query: 'os_version', atS: 1000, rows: [{ version: '14.0' }] }));
    start();
    await expect.poll(() => rowsOf('os_version')).toEqual([{ version: '14.0' }]);
    await appendFile(file, lines({ query: 'os_version', atS: 2000, rows: [{ version: '15.2' }] }) + lines({ query: 'os_version', atS: 1500, rows: [{ version: 'late, older' }] }));
    await expect.poll(() => rowsOf('os_version')).toEqual([{ version: '15.2' }]);
    expect((await source?.latest({ hostUuid: HOST }))?.get('os_version')).toMatchObject({ pack: 'Global', hostUuid: HOST, hostIdentifier: HOST, observedAtMs: 2_000_000 });
    expect(source?.stats()).toMatchObject({ lines: 3, skipped: 0 });
  });

  test('regroups event-format snapshot rows of one run and replaces them with the next run', async () => {
    await writeFile(file, lines({ query: 'usb_devices', atS: 1000, event: true, rows: [{ model: 'a' }, { model: 'b' }] }));
    start();
    await expect.poll(() => rowsOf('usb_devices')).toEqual([{ model: 'a' }, { model: 'b' }]);
    await appendFile(file, lines({ query: 'usb_devices', atS: 1060, event: true, rows: [{ model: 'c' }] }));
    await expect.poll(() => rowsOf('usb_devices')).toEqual([{ model: 'c' }]);
  });

  test('a partial last line waits for its newline', async () => {
    const line = lines({ query: 'os_version', atS: 1000, rows: [{ version: '15.2' }] });
    await writeFile(file, line.slice(0, 40));
    const created = start();
    await created.pollNow();
    expect(created.stats()).toMatchObject({ lines: 0, skipped: 0 });
    expect(await rowsOf('os_version')).toBeUndefined();
    await appendFile(file, line.slice(40));
    await expect.poll(() => rowsOf('os_version')).toEqual([{ version: '15.2' }]);
    expect(created.stats()).toMatchObject({ lines: 1, skipped: 0 });
  });

  test('follows a rotation (rename + new file), reading what the old file still had', async () => {
    await writeFile(file, lines({ query: 'os_version', atS: 1000, rows: [{ version: '14.0' }] }));
    // Polled by hand so that no read can slip in between the last append and the rename.
    const created = start({ pollIntervalMs: 3_600_000 });
    await created.pollNow();
    expect(await rowsOf('os_version')).toEqual([{ version: '14.0' }]);
    // Written after our last read, just before the rotation: still read through the open handle.
    await appendFile(file, lines({ query: 'kernel_info', atS: 1100, rows: [{ version: '6.1' }] }) + '{"partial":');
    await rename(file, `${file}.1`);
    await writeFile(file, lines({ query: 'os_version', atS: 2000, rows: [{ version: '15.2' }] }));
    await created.pollNow();
    expect(await rowsOf('os_version')).toEqual([{ version: '15.2' }]);
    expect(await rowsOf('kernel_info')).toEqual([{ version: '6.1' }]);
    // The old file's unfinished last line can never be completed: dropped and counted.
    expect(created.stats()).toMatchObject({ rotations: 1, skipped: 1, lastSkipReason: 'partial-line-at-rotation' });
  });

  test('follows a truncation (copytruncate) and reads the file again from the start', async () => {
    await writeFile(file, lines({ query: 'os_version', atS: 1000, rows: [{ version: '14.0' }] }) + lines({ query: 'kernel_info', atS: 1000, rows: [{ version: '6.1' }] }));
    const created = start({ pollIntervalMs: 3_600_000 });
    await created.pollNow();
    expect(await rowsOf('kernel_info')).toEqual([{ version: '6.1' }]);
    await truncate(file, 0);
    await created.pollNow();
    await appendFile(file, lines({ query: 'os_version', atS: 2000, rows: [{ version: '15.2' }] }));
    await created.pollNow();
    expect(await rowsOf('os_version')).toEqual([{ version: '15.2' }]);
    expect(created.stats()).toMatchObject({ truncations: 1, rotations: 0 });
  });

  test('malformed and differential lines are counted, not indexed', async () => {
    const differential = JSON.stringify({ name: 'pack/Global/os_version', hostIdentifier: HOST, unixTime: 3000, decorations: { host_uuid: HOST }, columns: { version: 'diff' }, action: 'added' });
    await writeFile(file, `not json\n{"name":"x"}\n\n${differential}\n${lines({ query: 'os_version', atS: 1000, rows: [{ version: '14.0' }] })}`);
    const created = start();
    await expect.poll(() => rowsOf('os_version')).toEqual([{ version: '14.0' }]);
    expect(created.stats()).toMatchObject({ lines: 4, skipped: 2, ignored: 1, lastSkipReason: 'unixTime is missing or not a number (a decorations_top_level collision overwrites it)' });
  });

  test('an oversized line is dropped and the next line still parses', async () => {
    const huge = `{"pad":"${'x'.repeat(2000)}"}\n`;
    await writeFile(file, huge + lines({ query: 'os_version', atS: 1000, rows: [{ version: '14.0' }] }));
    const created = start({ maxLineBytes: 1000 });
    await expect.poll(() => rowsOf('os_version')).toEqual([{ version: '14.0' }]);
    expect(created.stats()).toMatchObject({ skipped: 1, lastSkipReason: 'oversized-line' });
  });

  test('looks up by host uuid and by username; unknown subjects and stale results answer nothing', async () => {
    await writeFile(
      file,
      lines({ query: 'users', atS: 1000, username: 'ada', rows: [{ username: 'ada' }] }) +
        lines({ query: 'users', atS: 1200, host: OTHER_HOST, username: 'ada', rows: [{ username: 'ada', on: 'second laptop' }] }) +
        lines({ query: 'users', atS: 1100, host: OTHER_HOST, username: 'bob', rows: [{ username: 'bob' }] }),
    );
    start({ lookbackMs: NOW - 1_050_000 });
    await expect.poll(() => rowsOf('users', { username: 'ada' })).toEqual([{ username: 'ada', on: 'second laptop' }]);
    // Host uuid wins over the username; results older than the lookback are not answered.
    expect(await rowsOf('users', { hostUuid: HOST, username: 'ada' })).toBeUndefined();
    expect(await rowsOf('users', { hostUuid: OTHER_HOST })).toEqual([{ username: 'ada', on: 'second laptop' }]);
    expect(await rowsOf('users', { username: 'bob' })).toEqual([{ username: 'bob' }]);
    expect((await source?.latest({ username: 'nobody' }))?.size).toBe(0);
    expect((await source?.latest({}))?.size).toBe(0);
  });

  test('keeps at most maxQueriesPerSubject queries, dropping the oldest', async () => {
    await writeFile(file, ['a', 'b', 'c'].map((query, i) => lines({ query, atS: 1000 + i, rows: [{ n: query }] })).join(''));
    const created = start({ maxQueriesPerSubject: 2 });
    await expect.poll(() => created.stats().lines).toBe(3);
    expect([...((await created.latest({ hostUuid: HOST })) ?? new Map()).keys()].sort()).toEqual(['b', 'c']);
  });

  test('waits for a file that does not exist yet', async () => {
    const created = start();
    await created.pollNow();
    expect(created.stats().lastError).toBeNull();
    await writeFile(file, lines({ query: 'os_version', atS: 1000, rows: [{ version: '14.0' }] }));
    await expect.poll(() => rowsOf('os_version')).toEqual([{ version: '14.0' }]);
  });

  test('a multi-byte character cut between two reads is decoded whole', async () => {
    await writeFile(file, '{"user":"Zoë Ångström"}\n');
    const seen: string[] = [];
    const follower = createLineFollower({ file, maxLineBytes: 1000, readChunkBytes: 3, onLine: (line) => seen.push(line), onSkip: () => seen.push('skip'), onReset: () => seen.push('reset') });
    await follower.poll();
    await follower.close();
    expect(seen).toEqual(['{"user":"Zoë Ångström"}']);
  });
});
