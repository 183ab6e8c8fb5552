// An Elasticsearch results source on the REAL @elastic/elasticsearch client whose connection is
// @elastic/elasticsearch-mock, with switchable answers and an optional (abortable) delay, for tests
// that inject it into the gateway; plus osquery result lines turned into Elastic-integration documents.
import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import MockModule from '@elastic/elasticsearch-mock';
import type { MockPattern } from '@elastic/elasticsearch-mock';
import { createElasticsearchClient, createElasticsearchSource } from '../../src/pipeline/gather-posture/results/elasticsearch-source.ts';
import type { ElasticsearchClientOptions, ElasticsearchSourceOptions } from '../../src/pipeline/gather-posture/results/elasticsearch-source.ts';
import type { ResultsSource } from '../../src/pipeline/gather-posture/results-source.ts';

// The mock is CommonJS and recognises error answers with `instanceof` against the CommonJS build of
// the client, so error classes come from require (see test/integration/elasticsearch-source.test.ts).
export const esErrors = (createRequire(import.meta.url)('@elastic/elasticsearch') as typeof import('@elastic/elasticsearch')).errors;
const ClientMock = MockModule as unknown as typeof MockModule.default;

export interface ElasticsearchMock {
  /** Every search the client sent, oldest first. */
  readonly requests: MockPattern[];
  source(options?: Partial<ElasticsearchSourceOptions>): ResultsSource;
  /** Replaces how searches are answered. */
  answer(resolver: (params: MockPattern) => Record<string, unknown> | Error): void;
  /** Holds every answer this long (aborted by the client's timeout); 0 answers at once. */
  slow(ms: number): void;
}

export function createElasticsearchMock(): ElasticsearchMock {
  const mock = new ClientMock();
  const requests: MockPattern[] = [];
  let delayMs = 0;
  const Base = mock.getConnection();
  class TestConnection extends Base {
    override async request(...args: Parameters<InstanceType<typeof Base>['request']>): Promise<never> {
      if (delayMs > 0) await delay(delayMs, undefined, { signal: args[1].signal });
      return (await super.request(...args)) as never;
    }
    // The mock's connection has no close(), which Client.close() needs.
    override async close(): Promise<void> {}
  }
  return {
    requests,
    source(options = {}) {
      const client = createElasticsearchClient({ node: 'http://127.0.0.1:9200', timeoutMs: options.timeoutMs ?? 1000, Connection: TestConnection as unknown as ElasticsearchClientOptions['Connection'] });
      return createElasticsearchSource({ client, ...options });
    },
    answer(resolver) {
      mock.clearAll();
      mock.add({ method: ['GET', 'POST'], path: '/:index/_search' }, (params) => {
        requests.push(params);
        return resolver(params) as Record<string, unknown>;
      });
    },
    slow(ms) {
      delayMs = ms;
    },
  };
}

/** The host uuid a search filters on (the source's first filter term), or undefined. */
export function searchedHostUuid(params: MockPattern): string | undefined {
  const filter = (params.body as { query?: { bool?: { filter?: Record<string, Record<string, string>>[] } } }).query?.bool?.filter?.[0];
  return filter?.term?.['osquery.result.decorations.host_uuid'];
}

/** One Fleet result-log line as the Elastic osquery integration indexes it (numbers as keywords). */
export function elasticsearchDocument(line: string): Record<string, unknown> {
  const r = JSON.parse(line) as Record<string, unknown> & { decorations: Record<string, string>; unixTime: number };
  return {
    '@timestamp': new Date(r.unixTime * 1000).toISOString(),
    event: { dataset: 'osquery.result', kind: 'event' },
    // host.* describes the shipper, not the laptop.
    host: { hostname: 'fleet-server', name: 'docker-fleet-agent' },
    osquery: {
      result: {
        name: r.name,
        action: r.action,
        host_identifier: r.hostIdentifier,
        calendar_time: r.calendarTime,
        unix_time: String(r.unixTime),
        epoch: String(r.epoch),
        counter: String(r.counter),
        decorations: r.decorations,
        snapshot: r.snapshot,
      },
    },
    user: { name: r.decorations.username },
  };
}

export function searchHits(documents: readonly Record<string, unknown>[]): Record<string, unknown> {
  const hits = documents.map((source, i) => ({ _index: 'logs-osquery.result-default', _id: String(i), _score: null, _source: source }));
  return { took: 1, timed_out: false, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 }, hits: { max_score: null, hits } };
}
