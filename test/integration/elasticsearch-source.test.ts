// The Elasticsearch results source against the REAL @elastic/elasticsearch client, with
// @elastic/elasticsearch-mock as its connection: asserts the search it sends and how answers map.
import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@elastic/elasticsearch';
import MockModule from '@elastic/elasticsearch-mock';
import type { MockPattern } from '@elastic/elasticsearch-mock';
import { afterEach, describe, expect, test } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { createElasticsearchClient, createElasticsearchSource } from '../../src/pipeline/gather-posture/results/elasticsearch-source.ts';
import type { ElasticsearchClientOptions, ElasticsearchSourceOptions } from '../../src/pipeline/gather-posture/results/elasticsearch-source.ts';
import type { ResultsSource } from '../../src/pipeline/gather-posture/results-source.ts';

// The mock is CommonJS and recognises error answers with `instanceof` against the CommonJS build of
// the client; the ESM build carries its own copies of the classes, so take them from require.
const { errors } = createRequire(import.meta.url)('@elastic/elasticsearch') as typeof import('@elastic/elasticsearch');
// Its typings declare `export default`, but it is `module.exports = Mock`: the default import is the class.
const ClientMock = MockModule as unknown as typeof MockModule.default;

const NOW = Date.parse('2025-01-29T12:00:00.000Z');
const HOST = '72E1287B-D1BC-4FC6-B9D8-64F4352776A9';
const DAY = 24 * 60 * 60 * 1000;

interface DocSpec {
  name: string;
  atMs: number;
  action?: 'snapshot' | 'added' | 'removed';
  columns?: Record<string, unknown>;
  snapshot?: Record<string, unknown>[];
  hostUuid?: string;
  username?: string;
}

/** A document shaped like the Elastic integration's sample event (fixtures/elasticsearch), built in code. */
function doc(spec: DocSpec): Record<string, unknown> {
  const hostUuid = spec.hostUuid ?? HOST;
  const username = spec.username ?? 'ubuntu';
  const result: Record<string, unknown> = {
    action: spec.action ?? 'snapshot',
    calendar_time: new Date(spec.atMs).toUTCString(),
    // Keyword mapping: numbers arrive as strings.
    counter: '0',
    decorations: { host_uuid: hostUuid, username },
    epoch: '0',
    host_identifier: 'ubuntu-xenial',
    name: spec.name,
    unix_time: String(spec.atMs / 1000),
    ...(spec.columns === undefined ? {} : { columns: spec.columns }),
    ...(spec.snapshot === undefined ? {} : { snapshot: spec.snapshot }),
  };
  return {
    '@timestamp': new Date(spec.atMs).toISOString(),
    agent: { name: 'docker-fleet-agent', type: 'filebeat', version: '8.0.0-beta1' },
    data_stream: { dataset: 'osquery.result', namespace: 'ep', type: 'logs' },
    event: { action: result.action, dataset: 'osquery.result', kind: 'event', type: 'info' },
    // host.* describes the shipper, not the laptop: the source must not join on it.
    host: { hostname: 'ubuntu-xenial', id: hostUuid, name: 'docker-fleet-agent' },
    osquery: { result },
    related: { hosts: ['ubuntu-xenial'], user: [username] },
    rule: { name: spec.name },
    tags: ['osquery'],
    user: { name: username },
  };
}

function hits(docs: Record<string, unknown>[]): Record<string, unknown> {
  return { took: 1, timed_out: false, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 }, hits: { max_score: null, hits: docs.map((source, i) => ({ _index: 'logs-osquery.result-ep', _id: String(i), _score: null, _source: source })) } };
}

// The mock answers with `x-elastic-product: Elasticsearch`, as a real server must: without it the
// client refuses the response (ProductNotSupportedError), which one test below provokes on purpose.
const mock = new ClientMock();
/** The mock's connection has no close(), which Client.close() needs; nothing to release anyway. */
function closableConnection(Base: ReturnType<typeof mock.getConnection>): ReturnType<typeof mock.getConnection> {
  return class extends Base {
    override async close(): Promise<void> {}
  };
}
const requests: MockPattern[] = [];
const sources: ResultsSource[] = [];

function answer(resolver: (params: MockPattern) => Record<string, unknown> | Error): void {
  mock.add({ method: ['GET', 'POST'], path: '/:index/_search' }, (params) => {
    requests.push(params);
    return resolver(params) as Record<string, unknown>;
  });
}

function source(options: Partial<ElasticsearchSourceOptions> = {}, Connection = mock.getConnection()): ResultsSource {
  const client: Client = createElasticsearchClient({ node: 'http://localhost:9200', timeoutMs: 1000, Connection: closableConnection(Connection) as unknown as ElasticsearchClientOptions['Connection'] });
  const created = createElasticsearchSource({ client, now: () => NOW, ...options });
  sources.push(created);
  return created;
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    return error as GatewayError;
  }
  throw new Error('expected a rejection');
}

afterEach(async () => {
  mock.clearAll();
  requests.length = 0;
  await Promise.all(sources.splice(0).map((created) => created.close()));
});

describe('Elasticsearch results source', () => {
  test('sends one bounded, newest-first search filtered on the host uuid and the time range', async () => {
    answer(() => hits([]));
    const result = await source({ maxDocuments: 200, lookbackMs: DAY }).latest({ hostUuid: HOST, username: 'ignored-when-host-known' });
    expect(result.size).toBe(0);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.path).toBe('/logs-osquery.result-*/_search');
    expect(requests[0]?.body).toEqual({
      size: 200,
      sort: [{ '@timestamp': { order: 'desc' } }],
      track_total_hits: false,
      _source: expect.arrayContaining(['osquery.result.name', 'osquery.result.columns', 'osquery.result.snapshot', '@timestamp']),
      query: { bool: { filter: [{ term: { 'osquery.result.decorations.host_uuid': HOST } }, { range: { '@timestamp': { gte: NOW - DAY, format: 'epoch_millis' } } }] } },
    });
  });

  test('filters on the username field when no host uuid is known, and asks nothing for nobody', async () => {
    answer(() => hits([doc({ name: 'pack/Global/users', atMs: NOW - 1000, username: 'ada', snapshot: [{ username: 'ada', uid: '501' }] })]));
    const created = source({ index: 'osquery-*', fields: { username: 'osquery.result.decorations.username' } });
    expect((await created.latest({})).size).toBe(0);
    expect(requests).toHaveLength(0);
    const result = await created.latest({ username: 'ada' });
    expect(requests[0]?.path).toBe('/osquery-*/_search');
    expect((requests[0]?.body as { query: { bool: { filter: unknown[] } } }).query.bool.filter[0]).toEqual({ term: { 'osquery.result.decorations.username': 'ada' } });
    expect(result.get('users')).toMatchObject({ username: 'ada', pack: 'Global', rows: [{ username: 'ada', uid: '501' }] });
  });

  test('keeps only the newest result per query, regrouping one-row-per-document snapshots', async () => {
    answer(() =>
      hits([
        doc({ name: 'pack/Global/system_info', atMs: NOW - 1000, columns: { hostname: 'new-a' } }),
        doc({ name: 'pack/Global/system_info', atMs: NOW - 1000, columns: { hostname: 'new-b' } }),
        doc({ name: 'pack/Global/os_version', atMs: NOW - 2000, snapshot: [{ version: '15.2' }] }),
        doc({ name: 'pack/Global/os_version', atMs: NOW - 2000, action: 'added', columns: { version: 'diff' } }),
        doc({ name: 'pack/Global/system_info', atMs: NOW - 5000, columns: { hostname: 'old' } }),
        doc({ name: 'pack/Global/os_version', atMs: NOW - 9000, snapshot: [{ version: '14.0' }] }),
        doc({ name: 'pack/Global/processes', atMs: NOW - 3000, action: 'added', columns: { pid: '1' } }),
      ]),
    );
    const result = await source().latest({ hostUuid: HOST });
    expect([...result.keys()].sort()).toEqual(['os_version', 'system_info']);
    expect(result.get('system_info')?.rows).toEqual([{ hostname: 'new-a' }, { hostname: 'new-b' }]);
    expect(result.get('os_version')).toMatchObject({ rows: [{ version: '15.2' }], observedAtMs: NOW - 2000, hostUuid: HOST, hostIdentifier: 'ubuntu-xenial', pack: 'Global' });
  });

  test('accepts numbers where strings are expected and epoch-millis timestamps', async () => {
    const document = doc({ name: 'pack_it_processes', atMs: NOW - 1000, columns: { pid: 42, name: 'osqueryd', state: 'S' } });
    answer(() => hits([{ ...document, '@timestamp': String(NOW - 1000), osquery: { result: { ...(document.osquery as { result: object }).result, counter: 3, epoch: 0 } } }]));
    const result = await source().latest({ hostUuid: HOST });
    expect(result.get('processes')).toMatchObject({ pack: 'it', observedAtMs: NOW - 1000, rows: [{ pid: '42', name: 'osqueryd', state: 'S' }] });
  });

  test('pack and query filters go into the search and are re-checked on the answers', async () => {
    answer(() =>
      hits([
        doc({ name: 'pack/team-3/os_version', atMs: NOW - 1000, snapshot: [{ version: 'team' }] }),
        doc({ name: 'pack/Global/os_version', atMs: NOW - 1000, snapshot: [{ version: 'global' }] }),
        doc({ name: 'pack/team-3/os_version_extra', atMs: NOW - 1000, snapshot: [{ version: 'other' }] }),
      ]),
    );
    const result = await source({ packs: ['team-3'], queries: ['os_version'] }).latest({ hostUuid: HOST });
    expect((requests[0]?.body as { query: { bool: { filter: unknown[] } } }).query.bool.filter[2]).toEqual({ terms: { 'osquery.result.name': ['pack/team-3/os_version', 'pack_team-3_os_version'] } });
    expect([...result.values()].map((snapshot) => snapshot.rows[0]?.version)).toEqual(['team']);
  });

  test('a full page drops the event-format snapshot at its oldest timestamp (it may be cut off)', async () => {
    answer(() =>
      hits([
        doc({ name: 'pack/Global/os_version', atMs: NOW - 1000, snapshot: [{ version: '15.2' }] }),
        doc({ name: 'pack/Global/processes', atMs: NOW - 2000, columns: { pid: '1' } }),
        doc({ name: 'pack/Global/processes', atMs: NOW - 2000, columns: { pid: '2' } }),
      ]),
    );
    const result = await source({ maxDocuments: 3 }).latest({ hostUuid: HOST });
    expect([...result.keys()]).toEqual(['os_version']);
  });

  test('a 500 from Elasticsearch is TG_ERR_RESULTS_BAD_RESPONSE', async () => {
    answer(() => new errors.ResponseError({ body: { error: { type: 'search_phase_execution_exception' }, status: 500 }, statusCode: 500, headers: {}, warnings: null, meta: {} as never }));
    const error = await failure(source().latest({ hostUuid: HOST }));
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.code).toBe('TG_ERR_RESULTS_BAD_RESPONSE');
    expect(error.details).toMatchObject({ esStatus: 500, esType: 'search_phase_execution_exception' });
  });

  test('a connection error is TG_ERR_RESULTS_UNAVAILABLE', async () => {
    answer(() => new errors.ConnectionError('connect ECONNREFUSED 127.0.0.1:9200'));
    const error = await failure(source().latest({ hostUuid: HOST }));
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.code).toBe('TG_ERR_RESULTS_UNAVAILABLE');
    // Both attempts (maxRetries 1) hit the mock.
    expect(requests).toHaveLength(2);
  });

  test('an answer slower than timeoutMs is TG_ERR_RESULTS_TIMEOUT', async () => {
    answer(() => hits([]));
    // The mock's resolvers are synchronous, so slowness is added in front of its connection.
    const MockConnection = mock.getConnection();
    class SlowConnection extends MockConnection {
      override async request(...args: Parameters<InstanceType<typeof MockConnection>['request']>): Promise<never> {
        await delay(60_000, undefined, { signal: args[1].signal });
        return (await super.request(...args)) as never;
      }
    }
    const error = await failure(source({ timeoutMs: 50 }, SlowConnection).latest({ hostUuid: HOST }));
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.code).toBe('TG_ERR_RESULTS_TIMEOUT');
  });

  test('malformed answers are TG_ERR_RESULTS_BAD_RESPONSE', async () => {
    answer(() => ({ hits: { total: 1 } }));
    expect((await failure(source().latest({ hostUuid: HOST }))).code).toBe('TG_ERR_RESULTS_BAD_RESPONSE');
    mock.clearAll();
    // Documents that fit no part of the field map: a misconfigured deployment, not "unknown".
    answer(() => hits([{ message: 'raw line, not parsed' }]));
    const error = await failure(source().latest({ hostUuid: HOST }));
    expect(error.code).toBe('TG_ERR_RESULTS_BAD_RESPONSE');
    expect(error.details).toMatchObject({ reason: 'no document matches the configured field map' });
  });

  test('a server that is not Elasticsearch (no x-elastic-product header) is TG_ERR_RESULTS_BAD_RESPONSE', async () => {
    answer(() => hits([]));
    const MockConnection = mock.getConnection();
    class NotElasticsearch extends MockConnection {
      override async request(...args: Parameters<InstanceType<typeof MockConnection>['request']>): Promise<never> {
        const response = (await super.request(...args)) as { headers: Record<string, unknown> };
        delete response.headers['x-elastic-product'];
        return response as never;
      }
    }
    const error = await failure(source({}, NotElasticsearch).latest({ hostUuid: HOST }));
    expect(error.code).toBe('TG_ERR_RESULTS_BAD_RESPONSE');
    expect(error.details).toMatchObject({ reason: 'ProductNotSupportedError' });
  });
});
