// In-memory index of the newest snapshot per query, by host uuid and by username, with hard bounds
// so a noisy result log cannot grow the gateway's memory without limit.
import type { QuerySnapshot, ResultsSubject } from '../results-source.ts';
import { foldResult, snapshotsOf } from './latest-snapshots.ts';
import type { LatestEntry } from './latest-snapshots.ts';
import type { OsqueryResult } from './parse-osquery-result.ts';

export interface ResultIndexOptions {
  maxQueriesPerSubject: number;
  /** Per kind (hosts, users); the subject updated longest ago is dropped first. */
  maxSubjects: number;
}

export interface ResultIndex {
  /** `ignored`: differential results, which never change the scoring state. */
  add(result: OsqueryResult): 'indexed' | 'ignored';
  /** The host uuid wins over the username when both are given (it names one device). */
  latest(subject: ResultsSubject, notBeforeMs: number): Map<string, QuerySnapshot>;
  size(): { hosts: number; users: number };
}

type SubjectIndex = Map<string, Map<string, LatestEntry>>;

function evictOldestQuery(entries: Map<string, LatestEntry>): void {
  let oldestKey: string | undefined;
  let oldestMs = Number.POSITIVE_INFINITY;
  for (const [key, entry] of entries) {
    if (entry.snapshot.observedAtMs < oldestMs) {
      oldestMs = entry.snapshot.observedAtMs;
      oldestKey = key;
    }
  }
  if (oldestKey !== undefined) entries.delete(oldestKey);
}

export function createResultIndex(options: ResultIndexOptions): ResultIndex {
  const byHost: SubjectIndex = new Map();
  const byUser: SubjectIndex = new Map();

  function addTo(index: SubjectIndex, key: string, result: OsqueryResult): void {
    const entries = index.get(key) ?? new Map<string, LatestEntry>();
    // Re-insert so Map order is "least recently updated first", which is what eviction drops.
    index.delete(key);
    index.set(key, entries);
    if (foldResult(entries, result) && entries.size > options.maxQueriesPerSubject) evictOldestQuery(entries);
    for (const stale of index.keys()) {
      if (index.size <= options.maxSubjects) break;
      index.delete(stale);
    }
  }

  function add(result: OsqueryResult): 'indexed' | 'ignored' {
    if (result.format === 'differential') return 'ignored';
    const { hostUuid, hostIdentifier, username } = result.envelope;
    // Without a host_uuid decoration, Fleet's hostIdentifier (the hardware uuid by default) stands in.
    addTo(byHost, hostUuid ?? hostIdentifier, result);
    if (username !== null) addTo(byUser, username, result);
    return 'indexed';
  }

  function latest(subject: ResultsSubject, notBeforeMs: number): Map<string, QuerySnapshot> {
    const entries = subject.hostUuid ? byHost.get(subject.hostUuid) : subject.username ? byUser.get(subject.username) : undefined;
    return entries === undefined ? new Map<string, QuerySnapshot>() : snapshotsOf(entries, notBeforeMs);
  }

  return { add, latest, size: () => ({ hosts: byHost.size, users: byUser.size }) };
}
