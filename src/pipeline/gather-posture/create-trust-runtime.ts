// Builds what the trust score needs from the config, once per config version: the results source
// (Elasticsearch or the result-log file), the trust profile, the learned-values store, and a snapshot
// cache (lru-cache with fetchMethod: TTL and one results query per subject at a time).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';
import type { TrustConfig } from '../../config/schema.ts';
import type { QuerySnapshot, ResultsSource, ResultsSubject } from './results-source.ts';
import { createElasticsearchClient, createElasticsearchSource, type ElasticsearchClientOptions } from './results/elasticsearch-source.ts';
import { createResultLogSource } from './results/result-log-source.ts';
import { parseTrustProfileText } from '../decide/trust/load-trust-profile.ts';
import type { TrustProfile } from '../decide/trust/trust-profile.ts';
import { createMemoryLearnedValues, type LearnedValues } from '../decide/trust/learned-values.ts';
import { createRedisLearnedValues } from '../decide/trust/redis-learned-values.ts';
import { Redis } from 'ioredis';

export const DEFAULT_TRUST_PROFILE = fileURLToPath(new URL('../../../config/trust-profile.yaml', import.meta.url));

export interface TrustRuntime {
  readonly source: ResultsSource;
  readonly profile: TrustProfile;
  readonly learned: LearnedValues;
  /** Latest snapshots of a subject; `fresh` skips the cache (a score below threshold is never reused). */
  snapshots(subject: ResultsSubject, fresh: boolean): Promise<{ snapshots: ReadonlyMap<string, QuerySnapshot>; cached: boolean }>;
  close(): Promise<void>;
}

export interface TrustRuntimeDeps {
  now: () => number;
  onSourceError?: (error: unknown) => void;
  /** A ready-made results source used instead of config.source (the runtime still closes it). */
  source?: ResultsSource;
}

export function createTrustRuntime(config: TrustConfig, deps: TrustRuntimeDeps): TrustRuntime {
  const profileFile = config.profileFile ?? DEFAULT_TRUST_PROFILE;
  const profile = parseTrustProfileText(readFileSync(profileFile, 'utf8'), profileFile);
  const source = deps.source ?? createSource(config, deps);
  const learned = createLearned(config);
  const cache = new LRUCache<string, ReadonlyMap<string, QuerySnapshot>, ResultsSubject>({
    max: 50_000,
    ttl: config.cacheTtl,
    perf: { now: deps.now },
    fetchMethod: (_key, _stale, { context }) => source.latest(context),
  });
  return {
    source,
    profile,
    learned: learned.store,
    async snapshots(subject, fresh) {
      const key = subject.hostUuid ? `host:${subject.hostUuid}` : `user:${subject.username ?? ''}`;
      const status: LRUCache.Status<string, ReadonlyMap<string, QuerySnapshot>, ResultsSubject> = {};
      const snapshots = await cache.fetch(key, { context: subject, forceRefresh: fresh, status });
      return { snapshots: snapshots ?? new Map(), cached: status.fetch === 'hit' };
    },
    close: async () => {
      await source.close();
      learned.close();
    },
  };
}

function createLearned(config: TrustConfig): { store: LearnedValues; close(): void } {
  const where = config.learnedStore;
  if (where.kind === 'memory') return { store: createMemoryLearnedValues({ maxUsers: 100_000 }), close: () => {} };
  const redis = new Redis(where.url, { commandTimeout: 2_000, maxRetriesPerRequest: 1 });
  return { store: createRedisLearnedValues({ redis, prefix: where.prefix }), close: () => redis.disconnect() };
}

function createSource(config: TrustConfig, deps: { now: () => number; onSourceError?: (error: unknown) => void }): ResultsSource {
  const source = config.source;
  if (source.kind === 'result-log') return createResultLogSource({ file: source.file, now: deps.now, onError: deps.onSourceError });
  const auth: ElasticsearchClientOptions['auth'] | undefined = source.apiKey
    ? { apiKey: source.apiKey }
    : source.username && source.password
      ? { username: source.username, password: source.password }
      : undefined;
  return createElasticsearchSource({
    client: createElasticsearchClient({ node: source.node, auth, timeoutMs: source.timeout }),
    index: source.index,
    fields: source.fields,
    packs: source.packs,
    maxDocuments: source.maxDocuments,
    timeoutMs: source.timeout,
    lookbackMs: source.lookback,
    now: deps.now,
  });
}
