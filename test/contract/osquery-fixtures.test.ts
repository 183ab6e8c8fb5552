// Contract test: every real osquery result line and Elasticsearch document in ../shared/fixtures goes
// through the gateway's own parsers, so drift in osquery's, Fleet's or Elastic's formats fails here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { sharedFixturesPresent } from '../support/shared-fixtures.ts';
import { DEFAULT_ELASTICSEARCH_FIELDS, mapElasticsearchDocument } from '../../src/pipeline/gather-posture/results/elasticsearch-source.ts';
import { foldResult } from '../../src/pipeline/gather-posture/results/latest-snapshots.ts';
import type { LatestEntry } from '../../src/pipeline/gather-posture/results/latest-snapshots.ts';
import { parseOsqueryResult, parseOsqueryResultLine } from '../../src/pipeline/gather-posture/results/parse-osquery-result.ts';
import type { OsqueryResult } from '../../src/pipeline/gather-posture/results/parse-osquery-result.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixturesDir = path.resolve(repoRoot, '..', 'shared', 'fixtures');

function text(file: string): string {
  return readFileSync(path.join(fixturesDir, file), 'utf8');
}

function json(file: string): unknown {
  return JSON.parse(text(file));
}

function parsed(value: unknown): OsqueryResult {
  const outcome = parseOsqueryResult(value);
  if (outcome.result === undefined) throw new Error(`expected a result, got: ${outcome.reason}`);
  return outcome.result;
}

function lines(file: string): OsqueryResult[] {
  return text(file)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const outcome = parseOsqueryResultLine(line);
      if (outcome.result === undefined) throw new Error(`${file}: ${outcome.reason}`);
      return outcome.result;
    });
}

const USB_HOST = 'F5B29579-E946-46A2-BB0F-7A8D1E304940';

/** Fixture (path under fixtures/) → checks with the gateway's parser, or why the gateway never reads it. */
const FIXTURES: Record<string, (() => void) | { unused: string }> = {
  'osquery/fleet-result-snapshot.json': () => {
    const result = parsed(json('osquery/fleet-result-snapshot.json'));
    expect(result.format).toBe('snapshot');
    expect(result.envelope).toMatchObject({ pack: 'Global', query: 'All USB devices', hostUuid: USB_HOST, hostIdentifier: USB_HOST, username: null, counter: 0, epoch: 0, observedAtMs: 1738189037_000 });
    if (result.format !== 'snapshot') return;
    expect(result.rows.map((row) => row.model)).toEqual(['AppleUSBVHCIBCE Root Hub Simulation', 'AppleUSBXHCI Root Hub Simulation']);
    expect(result.rows[0]).toMatchObject({ class: '9', removable: '0', protocol: '' });
  },
  // Event format: one row per line, regrouped into one snapshot by name + unixTime + host.
  'osquery/fleet-result-snapshot-event-format.jsonl': () => {
    const results = lines('osquery/fleet-result-snapshot-event-format.jsonl');
    expect(results.map((result) => result.format)).toEqual(['event-snapshot', 'event-snapshot']);
    const entries = new Map<string, LatestEntry>();
    for (const result of results) foldResult(entries, result);
    const snapshot = entries.get('All USB devices')?.snapshot;
    expect(snapshot).toMatchObject({ pack: 'Global', hostUuid: USB_HOST, observedAtMs: 1738153974_000 });
    expect(snapshot?.rows.map((row) => row.model)).toEqual(['AppleUSBVHCIBCE Root Hub Simulation', 'AppleUSBXHCI Root Hub Simulation']);
  },
  'osquery/fleet-result-event-added.json': () => {
    const result = parsed(json('osquery/fleet-result-event-added.json'));
    expect(result.format).toBe('differential');
    expect(result.envelope).toMatchObject({ pack: 'Global', query: 'system_info', hostUuid: 'some_uuid', username: 'zwass', counter: null });
    if (result.format === 'differential') expect(result.added).toEqual([{ cpu_brand: 'Intel(R) Core(TM) i7-4770HQ CPU @ 2.20GHz', hostname: 'hostimus', physical_memory: '17179869184' }]);
  },
  // Old agents: strings for unixTime/epoch/counter, `hostname` instead of `hostIdentifier`, no pack.
  'osquery/result-snapshot.json': () => {
    const result = parsed(json('osquery/result-snapshot.json'));
    expect(result.envelope).toMatchObject({ pack: null, query: 'process_snapshot', hostIdentifier: 'hostname.local', hostUuid: null, counter: 1, epoch: 314159265, observedAtMs: 1462228052_000 });
    if (result.format === 'snapshot') expect(result.rows.map((row) => row.pid)).toEqual(['1', '51', '52', '54']);
    else throw new Error(`expected a snapshot, got ${result.format}`);
  },
  'osquery/result-event-added.json': () => {
    const result = parsed(json('osquery/result-event-added.json'));
    expect(result.envelope).toMatchObject({ query: 'processes', pack: null, hostIdentifier: 'hostname.local', counter: 1 });
    if (result.format === 'differential') expect(result.added.map((row) => row.pid)).toEqual(['97830']);
    else throw new Error(`expected differential, got ${result.format}`);
  },
  'osquery/result-event-removed.json': () => {
    const result = parsed(json('osquery/result-event-removed.json'));
    if (result.format === 'differential') expect([result.added, result.removed.map((row) => row.pid)]).toEqual([[], ['97650']]);
    else throw new Error(`expected differential, got ${result.format}`);
  },
  'osquery/result-batch-diffresults.json': () => {
    const result = parsed(json('osquery/result-batch-diffresults.json'));
    expect(result.envelope).toMatchObject({ query: 'processes', epoch: 314159265, observedAtMs: 1412123850_000 });
    if (result.format === 'differential') expect([result.added.map((row) => row.pid), result.removed.map((row) => row.pid)]).toEqual([['97830'], ['97650']]);
    else throw new Error(`expected differential, got ${result.format}`);
  },
  // A decorator named like a reserved key overwrites it: unixTime "collision" cannot be ordered, so the line is refused.
  'osquery/result-event-decorations-top-level-collision.json': () => {
    const outcome = parseOsqueryResult(json('osquery/result-event-decorations-top-level-collision.json'));
    expect(outcome.result).toBeUndefined();
    expect(outcome.reason).toMatch(/unixTime/);
  },
  // Only a fragment: graft it onto a real line to check nested decorations are read (and that a
  // decorator named `user` is not mistaken for the `username` the gateway joins on).
  'osquery/decorations-fragment.json': () => {
    const fragment = json('osquery/decorations-fragment.json') as Record<string, unknown>;
    const result = parsed({ ...(json('osquery/fleet-result-snapshot.json') as Record<string, unknown>), ...fragment });
    expect(result.envelope.decorations).toEqual({ user: 'you', uptime: '10000', version: '1.7.3' });
    expect(result.envelope).toMatchObject({ username: null, hostUuid: null, hostIdentifier: USB_HOST });
  },
  'osquery/table-columns.json': { unused: 'column catalogue for the scoring profile, not a result line' },
  'elasticsearch/osquery-result-pipeline-input.jsonl': () => {
    const results = lines('elasticsearch/osquery-result-pipeline-input.jsonl');
    expect(results.map((result) => [result.format, result.envelope.pack, result.envelope.query, result.envelope.username, result.envelope.counter])).toEqual([
      ['differential', 'it-compliance', 'mounts', 'tsg', 1],
      ['differential', 'osquery-monitoring', 'schedule', 'ubuntu', 0],
      ['differential', 'osquery-monitoring', 'schedule', 'ubuntu', 0],
    ]);
    // Line 3 is the input the sample document was indexed from: both paths must agree.
    const fromDocument = mapElasticsearchDocument(json('elasticsearch/osquery-result-sample-event.json')).result;
    expect(fromDocument).toEqual(results[2]);
  },
  'elasticsearch/osquery-result-sample-event.json': () => {
    const document = json('elasticsearch/osquery-result-sample-event.json') as { osquery: { result: Record<string, unknown> } };
    const result = mapElasticsearchDocument(document).result;
    expect(result?.format).toBe('differential');
    expect(result?.envelope).toMatchObject({
      pack: 'osquery-monitoring',
      query: 'schedule',
      hostUuid: '72E1287B-D1BC-4FC6-B9D8-64F4352776A9',
      username: 'ubuntu',
      hostIdentifier: 'ubuntu-xenial',
      counter: 0,
      observedAtMs: Date.parse('2018-01-08T14:51:55.000Z'),
    });
    // The same document as one row of an event-format snapshot.
    const asSnapshotRow = mapElasticsearchDocument({ ...document, osquery: { result: { ...document.osquery.result, action: 'snapshot' } } }).result;
    if (asSnapshotRow?.format !== 'event-snapshot') throw new Error('expected an event-snapshot row');
    expect(asSnapshotRow.row).toMatchObject({ executions: '38', name: 'pack_ossec-rootkit_55808.a_worm', wall_time: '0' });
  },
  // The default field map must point where the ingest pipeline puts things.
  'elasticsearch/osquery-result-field-map.derived.json': () => {
    const map = json('elasticsearch/osquery-result-field-map.derived.json') as { mappings: { log_key: string; es_field: string }[] };
    const target = (logKey: string): string[] => map.mappings.filter((entry) => entry.log_key === logKey).map((entry) => entry.es_field);
    expect(target('name')).toContain(DEFAULT_ELASTICSEARCH_FIELDS.query);
    expect(target('hostIdentifier')).toContain(DEFAULT_ELASTICSEARCH_FIELDS.hostIdentifier);
    expect(target('unixTime')).toContain(DEFAULT_ELASTICSEARCH_FIELDS.timestamp);
    expect(target('action')).toContain(DEFAULT_ELASTICSEARCH_FIELDS.action);
    expect(target('snapshot[]')).toContain(DEFAULT_ELASTICSEARCH_FIELDS.snapshot);
    expect(target('columns.<col>')).toContain(`${DEFAULT_ELASTICSEARCH_FIELDS.columns}.<col>`);
    expect(target('decorations.<key>')).toContain(DEFAULT_ELASTICSEARCH_FIELDS.hostUuid.replace('host_uuid', '<key>'));
    expect(target('decorations.username')).toContain(DEFAULT_ELASTICSEARCH_FIELDS.username);
    expect(target('counter')).toContain(DEFAULT_ELASTICSEARCH_FIELDS.counter);
  },
};

// The fixtures live outside this repository (shared by the team); a checkout without them has
// nothing to compare against, so skip rather than fail — except under CI=true, where that fails.
describe.skipIf(!sharedFixturesPresent(fixturesDir))('osquery / Elasticsearch wire contract (shared fixtures)', () => {
  const files = ['osquery', 'elasticsearch'].flatMap((dir) =>
    existsSync(path.join(fixturesDir, dir)) ? readdirSync(path.join(fixturesDir, dir)).map((name) => `${dir}/${name}`) : [],
  );

  test('every fixture file is handled, and every handled file exists', () => {
    expect(files.filter((file) => !(file in FIXTURES)).sort()).toEqual([]);
    expect(Object.keys(FIXTURES).filter((file) => !files.includes(file))).toEqual([]);
  });

  test.each(Object.keys(FIXTURES).filter((file) => typeof FIXTURES[file] === 'function'))('%s', (file) => {
    const check = FIXTURES[file];
    if (typeof check === 'function') check();
  });
});

describe('parseOsqueryResultLine on bad input', () => {
  test.each([
    ['', 'empty line'],
    ['{"name":', 'not JSON'],
    ['[1,2]', 'not a JSON object'],
    ['{"unixTime":1,"hostIdentifier":"h","snapshot":[]}', 'name is missing'],
    ['{"name":"q","unixTime":1,"snapshot":[]}', 'hostIdentifier is missing'],
    ['{"name":"q","hostIdentifier":"h","unixTime":1,"snapshot":["x"]}', 'snapshot holds a row that is not an object'],
    ['{"name":"q","hostIdentifier":"h","unixTime":1,"columns":{"a":"1"},"action":"moved"}', 'columns without a known action'],
    ['{"name":"q","hostIdentifier":"h","unixTime":1}', 'no snapshot, columns or diffResults'],
  ])('%j → %s', (line, reason) => {
    expect(parseOsqueryResultLine(line)).toEqual({ result: undefined, reason });
  });

  test('numerics: numbers turn back into strings, nulls are left out', () => {
    const outcome = parseOsqueryResultLine('{"name":"pack/team-3/a/b","hostIdentifier":"h","unixTime":"10","numerics":true,"snapshot":[{"pid":42,"ok":true,"gone":null,"s":"x"}]}');
    expect(outcome.result?.envelope).toMatchObject({ pack: 'team-3', query: 'a/b', numerics: true, observedAtMs: 10_000 });
    expect(outcome.result?.format === 'snapshot' && outcome.result.rows).toEqual([{ pid: '42', ok: '1', s: 'x' }]);
  });

  test('decorations_top_level: host_uuid and username next to the envelope keys', () => {
    const outcome = parseOsqueryResultLine('{"name":"pack_it_os version","hostIdentifier":"h","unixTime":5,"host_uuid":"U-1","username":"ada","columns":{"a":"1"},"action":"snapshot"}');
    expect(outcome.result?.envelope).toMatchObject({ pack: 'it', query: 'os version', hostUuid: 'U-1', username: 'ada', decorations: { host_uuid: 'U-1', username: 'ada' } });
  });
});
