// Folds parsed osquery results into "the newest full snapshot of each query", the one rule both
// results sources share, so Elasticsearch and the result log cannot disagree about what "latest" means.
import type { QuerySnapshot } from '../results-source.ts';
import { toQuerySnapshot } from './parse-osquery-result.ts';
import type { OsqueryResult, ResultEnvelope } from './parse-osquery-result.ts';

export interface LatestEntry {
  readonly snapshot: QuerySnapshot;
  /** Built from event-format rows: later rows of the same run (same name + unixTime + host) append. */
  readonly fromEvents: boolean;
}

function sameRun(entry: LatestEntry, envelope: ResultEnvelope): boolean {
  const snapshot = entry.snapshot;
  return (
    entry.fromEvents &&
    snapshot.observedAtMs === envelope.observedAtMs &&
    snapshot.pack === envelope.pack &&
    snapshot.hostIdentifier === envelope.hostIdentifier &&
    snapshot.hostUuid === envelope.hostUuid
  );
}

/**
 * The entry to keep for `result`'s query, given the current one. Order-independent: an older result
 * never replaces a newer one, so Elasticsearch hits (newest first) and log lines (oldest first) agree.
 * Ties between two whole snapshots keep the current one (a re-shipped duplicate changes nothing).
 */
export function mergeResult(current: LatestEntry | undefined, result: OsqueryResult): LatestEntry | undefined {
  // Differential lines never change the scoring state (see parse-osquery-result.ts).
  if (result.format === 'differential') return current;
  const observedAtMs = result.envelope.observedAtMs;
  if (result.format === 'snapshot') {
    if (current !== undefined && current.snapshot.observedAtMs >= observedAtMs) return current;
    return { snapshot: toQuerySnapshot(result.envelope, result.rows), fromEvents: false };
  }
  if (current !== undefined && sameRun(current, result.envelope)) {
    return { snapshot: { ...current.snapshot, rows: [...current.snapshot.rows, result.row] }, fromEvents: true };
  }
  if (current !== undefined && current.snapshot.observedAtMs >= observedAtMs) return current;
  return { snapshot: toQuerySnapshot(result.envelope, [result.row]), fromEvents: true };
}

/** Folds `result` into `entries` (keyed by bare query name); returns whether anything changed. */
export function foldResult(entries: Map<string, LatestEntry>, result: OsqueryResult): boolean {
  const key = result.envelope.query;
  const current = entries.get(key);
  const next = mergeResult(current, result);
  if (next === current || next === undefined) return false;
  entries.set(key, next);
  return true;
}

/** The public view: query name → snapshot, leaving out results older than `notBeforeMs`. */
export function snapshotsOf(entries: ReadonlyMap<string, LatestEntry>, notBeforeMs: number): Map<string, QuerySnapshot> {
  const snapshots = new Map<string, QuerySnapshot>();
  for (const [query, entry] of entries) {
    if (entry.snapshot.observedAtMs >= notBeforeMs) snapshots.set(query, entry.snapshot);
  }
  return snapshots;
}
