// Results source backed by Elasticsearch (osquery results shipped by Filebeat/Elastic Agent/Logstash):
// one bounded search per lookup, grouped in code to the newest snapshot per query.
import { Client } from '@elastic/elasticsearch';
import type { estypes } from '@elastic/elasticsearch';
import { GatewayError } from '../../../errors.ts';
import type { QuerySnapshot, ResultsSource, ResultsSubject } from '../results-source.ts';
import { foldResult, snapshotsOf } from './latest-snapshots.ts';
import type { LatestEntry } from './latest-snapshots.ts';
import { parseOsqueryResult } from './parse-osquery-result.ts';
import type { ParseOutcome } from './parse-osquery-result.ts';

/** Where each piece of a result sits in the indexed document (dotted paths; deployments differ). */
export interface ElasticsearchFieldMap {
  readonly query: string;
  readonly hostUuid: string;
  readonly username: string;
  readonly timestamp: string;
  readonly hostIdentifier: string;
  readonly columns: string;
  readonly snapshot: string;
  readonly action: string;
  readonly epoch: string;
  readonly counter: string;
  readonly calendarTime: string;
}

/** The Elastic osquery integration's layout (fixtures/elasticsearch/osquery-result-field-map.derived.json). */
export const DEFAULT_ELASTICSEARCH_FIELDS: ElasticsearchFieldMap = {
  query: 'osquery.result.name',
  hostUuid: 'osquery.result.decorations.host_uuid',
  username: 'user.name',
  timestamp: '@timestamp',
  hostIdentifier: 'osquery.result.host_identifier',
  columns: 'osquery.result.columns',
  snapshot: 'osquery.result.snapshot',
  action: 'osquery.result.action',
  epoch: 'osquery.result.epoch',
  counter: 'osquery.result.counter',
  calendarTime: 'osquery.result.calendar_time',
};

export interface ElasticsearchSourceOptions {
  /** The source owns the client: close() closes it. */
  client: Client;
  index?: string;
  fields?: Partial<ElasticsearchFieldMap>;
  /** Only results of these packs ("Global", "team-3", "it-compliance"). */
  packs?: readonly string[];
  /** Only these query names, without pack prefix (the keys of the map `latest()` returns). */
  queries?: readonly string[];
  maxDocuments?: number;
  timeoutMs?: number;
  lookbackMs?: number;
  now?: () => number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A dotted path read from nested objects, flattened "a.b" keys, or any mix of the two. */
function readPath(value: unknown, segments: readonly string[]): unknown {
  if (segments.length === 0) return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  for (let take = segments.length; take >= 1; take -= 1) {
    const key = segments.slice(0, take).join('.');
    if (!(key in record)) continue;
    const found = readPath(record[key], segments.slice(take));
    if (found !== undefined) return found;
  }
  return undefined;
}

function read(source: unknown, path: string): unknown {
  return readPath(source, path.split('.'));
}

function timestampMs(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string') return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/**
 * Maps one indexed document (`_source`) back to an osquery result, so it goes through the same
 * parser as a log line. Accepts whole-snapshot documents and one-row-per-document event format.
 */
export function mapElasticsearchDocument(source: unknown, fields: ElasticsearchFieldMap = DEFAULT_ELASTICSEARCH_FIELDS): ParseOutcome {
  const observedAtMs = timestampMs(read(source, fields.timestamp));
  if (observedAtMs === undefined) return { result: undefined, reason: `${fields.timestamp} is missing or not a date` };
  const hostUuid = read(source, fields.hostUuid);
  const username = read(source, fields.username);
  const decorations = { ...(hostUuid === undefined ? {} : { host_uuid: hostUuid }), ...(username === undefined ? {} : { username }) };
  return parseOsqueryResult({
    name: read(source, fields.query),
    hostIdentifier: read(source, fields.hostIdentifier),
    calendarTime: read(source, fields.calendarTime),
    unixTime: observedAtMs / 1000,
    epoch: read(source, fields.epoch),
    counter: read(source, fields.counter),
    decorations,
    action: read(source, fields.action),
    columns: read(source, fields.columns),
    snapshot: read(source, fields.snapshot),
  });
}

function nameFilter(field: string, packs: readonly string[], queries: readonly string[]): estypes.QueryDslQueryContainer | undefined {
  if (packs.length > 0 && queries.length > 0) {
    const names = packs.flatMap((pack) => queries.flatMap((query) => [`pack/${pack}/${query}`, `pack_${pack}_${query}`]));
    return { terms: { [field]: names } };
  }
  if (packs.length > 0) {
    const prefixes = packs.flatMap((pack) => [`pack/${pack}/`, `pack_${pack}_`]);
    return { bool: { should: prefixes.map((value) => ({ prefix: { [field]: value } })), minimum_should_match: 1 } };
  }
  if (queries.length > 0) {
    // Bare names, or any pack: "pack*<query>" (code re-checks the exact split below).
    const escaped = queries.map((query) => `pack*${query.replace(/[\\*?]/g, '\\$&')}`);
    const should: estypes.QueryDslQueryContainer[] = [{ terms: { [field]: [...queries] } }, ...escaped.map((value) => ({ wildcard: { [field]: { value } } }))];
    return { bool: { should, minimum_should_match: 1 } };
  }
  return undefined;
}

export interface SearchPlan {
  readonly fields: ElasticsearchFieldMap;
  readonly index: string;
  readonly packs: readonly string[];
  readonly queries: readonly string[];
  readonly maxDocuments: number;
  readonly lookbackMs: number;
}

/** The one search a lookup sends; the host uuid wins over the username when both are known. */
export function buildSearchRequest(plan: SearchPlan, subject: ResultsSubject, nowMs: number): estypes.SearchRequest | undefined {
  const { fields } = plan;
  const who = subject.hostUuid ? { term: { [fields.hostUuid]: subject.hostUuid } } : subject.username ? { term: { [fields.username]: subject.username } } : undefined;
  if (who === undefined) return undefined;
  const filter: estypes.QueryDslQueryContainer[] = [who, { range: { [fields.timestamp]: { gte: nowMs - plan.lookbackMs, format: 'epoch_millis' } } }];
  const names = nameFilter(fields.query, plan.packs, plan.queries);
  if (names !== undefined) filter.push(names);
  return {
    index: plan.index,
    size: plan.maxDocuments,
    sort: [{ [fields.timestamp]: { order: 'desc' } }],
    track_total_hits: false,
    _source: [fields.query, fields.hostUuid, fields.username, fields.timestamp, fields.hostIdentifier, fields.columns, fields.snapshot, fields.action, fields.epoch, fields.counter, fields.calendarTime],
    query: { bool: { filter } },
  };
}

function badResponse(reason: string, details: Record<string, unknown> = {}): GatewayError {
  return new GatewayError('TG_ERR_RESULTS_BAD_RESPONSE', 'The results store returned an unexpected response', { details: { reason, ...details } });
}

/** The boundary: no Elasticsearch error type gets past this function. */
export function mapElasticsearchError(error: unknown, timedOut: boolean): GatewayError {
  if (error instanceof GatewayError) return error;
  const name = error instanceof Error ? error.name : 'unknown';
  if (timedOut || name === 'TimeoutError') {
    return new GatewayError('TG_ERR_RESULTS_TIMEOUT', 'The results store did not answer in time', { cause: error, details: { reason: name } });
  }
  if (name === 'ResponseError') {
    const status = (error as { statusCode?: unknown }).statusCode;
    const type = (error as { body?: { error?: { type?: unknown } } }).body?.error?.type;
    return new GatewayError('TG_ERR_RESULTS_BAD_RESPONSE', 'The results store refused the search', { cause: error, details: { reason: name, esStatus: status, esType: type } });
  }
  // A server without `x-elastic-product: Elasticsearch` (a proxy's error page, another product) or a body that is not JSON.
  if (name === 'ProductNotSupportedError' || name === 'DeserializationError') return badResponse(name);
  // ConnectionError, NoLivingConnectionsError, RequestAbortedError and anything unexpected.
  return new GatewayError('TG_ERR_RESULTS_UNAVAILABLE', 'The results store is unreachable', { cause: error, details: { reason: name } });
}

function hitsOf(response: unknown): unknown[] {
  const hits = (response as { hits?: { hits?: unknown } } | null)?.hits?.hits;
  if (!Array.isArray(hits)) throw badResponse('hits.hits is not an array');
  return hits;
}

/**
 * Newest snapshot per query from hits sorted newest first. When the page is full, the oldest
 * timestamp on it may be cut off mid-snapshot, so event-format groups at that timestamp are dropped.
 */
export function groupHits(hits: readonly unknown[], plan: Pick<SearchPlan, 'fields' | 'packs' | 'queries' | 'maxDocuments'>): Map<string, LatestEntry> {
  const entries = new Map<string, LatestEntry>();
  let mapped = 0;
  let lastReason = '';
  let boundaryMs = Number.POSITIVE_INFINITY;
  for (const hit of hits) {
    const outcome = mapElasticsearchDocument((hit as { _source?: unknown } | null)?._source, plan.fields);
    if (outcome.result === undefined) {
      lastReason = outcome.reason;
      continue;
    }
    mapped += 1;
    const envelope = outcome.result.envelope;
    boundaryMs = Math.min(boundaryMs, envelope.observedAtMs);
    if (plan.packs.length > 0 && (envelope.pack === null || !plan.packs.includes(envelope.pack))) continue;
    if (plan.queries.length > 0 && !plan.queries.includes(envelope.query)) continue;
    foldResult(entries, outcome.result);
  }
  // Every document unreadable means the field map does not fit this index: say so instead of "unknown".
  if (hits.length > 0 && mapped === 0) throw badResponse('no document matches the configured field map', { lastReason });
  if (hits.length >= plan.maxDocuments) {
    for (const [query, entry] of entries) if (entry.fromEvents && entry.snapshot.observedAtMs === boundaryMs) entries.delete(query);
  }
  return entries;
}

/** The transport's requestTimeout covers one attempt; this deadline bounds the whole call, retries included. */
async function searchWithDeadline(client: Client, request: estypes.SearchRequest, timeoutMs: number): Promise<unknown> {
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
      reject(new Error('deadline'));
    }, timeoutMs);
  });
  try {
    return await Promise.race([client.search(request, { requestTimeout: timeoutMs, signal: controller.signal, meta: false }), deadline]);
  } catch (error) {
    throw mapElasticsearchError(error, timedOut);
  } finally {
    clearTimeout(timer);
  }
}

export function createElasticsearchSource(options: ElasticsearchSourceOptions): ResultsSource {
  const plan: SearchPlan = {
    fields: { ...DEFAULT_ELASTICSEARCH_FIELDS, ...options.fields },
    index: options.index ?? 'logs-osquery.result-*',
    packs: options.packs ?? [],
    queries: options.queries ?? [],
    maxDocuments: options.maxDocuments ?? 500,
    lookbackMs: options.lookbackMs ?? 7 * DAY_MS,
  };
  const timeoutMs = options.timeoutMs ?? 3000;
  const now = options.now ?? Date.now;

  async function latest(subject: ResultsSubject): Promise<ReadonlyMap<string, QuerySnapshot>> {
    const nowMs = now();
    const request = buildSearchRequest(plan, subject, nowMs);
    if (request === undefined) return new Map();
    const entries = groupHits(hitsOf(await searchWithDeadline(options.client, request, timeoutMs)), plan);
    return snapshotsOf(entries, nowMs - plan.lookbackMs);
  }

  return {
    name: 'elasticsearch',
    latest,
    close: () => options.client.close(),
  };
}

// The ESM entry point does not re-export ClientOptions; take it from the constructor.
type ClientOptions = NonNullable<ConstructorParameters<typeof Client>[0]>;

export interface ElasticsearchClientOptions {
  node: string;
  auth?: ClientOptions['auth'];
  timeoutMs: number;
  /** Tests pass @elastic/elasticsearch-mock's connection here; production uses the default. */
  Connection?: ClientOptions['Connection'];
}

/** The real client: one retry at most (the caller's deadline bounds the total), per-attempt timeout. */
export function createElasticsearchClient(options: ElasticsearchClientOptions): Client {
  return new Client({
    node: options.node,
    requestTimeout: options.timeoutMs,
    maxRetries: 1,
    ...(options.auth === undefined ? {} : { auth: options.auth }),
    ...(options.Connection === undefined ? {} : { Connection: options.Connection }),
  });
}
