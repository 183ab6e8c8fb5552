// Results source that follows Fleet's (or osquery's) JSON-lines result log on disk, the embedded
// default when no Elasticsearch is deployed: a background poller keeps the index, lookups never do I/O.
import type { QuerySnapshot, ResultsSource, ResultsSubject } from '../results-source.ts';
import { createLineFollower } from './line-follower.ts';
import type { LineFollower } from './line-follower.ts';
import { parseOsqueryResultLine } from './parse-osquery-result.ts';
import { createResultIndex } from './result-index.ts';
import type { ResultIndex } from './result-index.ts';

export interface ResultLogSourceOptions {
  file: string;
  maxQueriesPerSubject?: number;
  /** Hosts (and, separately, users) kept in memory. */
  maxSubjects?: number;
  pollIntervalMs?: number;
  /** Results older than this are not answered, like the Elasticsearch source's time range. */
  lookbackMs?: number;
  maxLineBytes?: number;
  now?: () => number;
  /** Told about a failed poll (unreadable file…); polling carries on. */
  onError?: (error: unknown) => void;
}

export interface ResultLogStats {
  /** Non-empty lines read (including skipped ones). */
  lines: number;
  /** Malformed, oversized, or cut off by a rotation. */
  skipped: number;
  /** Well-formed differential lines (added/removed/diffResults), not used for scoring. */
  ignored: number;
  /** Inode changes (rename + new file) and, counted separately, in-place truncations. */
  rotations: number;
  truncations: number;
  lastSkipReason: string | null;
  lastError: string | null;
  hosts: number;
  users: number;
}

export interface ResultLogSource extends ResultsSource {
  stats(): ResultLogStats;
  /** One catch-up pass now (the timer keeps running); resolves when it is done. */
  pollNow(): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

type Counters = Omit<ResultLogStats, 'hosts' | 'users'>;

/** Wires file lines to the parser and the index, counting what happens to each line. */
function followLog(options: ResultLogSourceOptions, counters: Counters, index: ResultIndex): LineFollower {
  function skip(reason: string): void {
    counters.skipped += 1;
    counters.lastSkipReason = reason;
  }
  return createLineFollower({
    file: options.file,
    maxLineBytes: options.maxLineBytes ?? 8 * 1024 * 1024,
    onLine(line) {
      if (line.trim() === '') return;
      counters.lines += 1;
      const outcome = parseOsqueryResultLine(line);
      if (outcome.result === undefined) return skip(outcome.reason);
      if (index.add(outcome.result) === 'ignored') counters.ignored += 1;
    },
    onSkip(reason) {
      counters.lines += 1;
      skip(reason);
    },
    onReset(kind) {
      if (kind === 'rotated') counters.rotations += 1;
      else counters.truncations += 1;
    },
  });
}

export function createResultLogSource(options: ResultLogSourceOptions): ResultLogSource {
  const now = options.now ?? Date.now;
  const lookbackMs = options.lookbackMs ?? 7 * DAY_MS;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const counters: Counters = { lines: 0, skipped: 0, ignored: 0, rotations: 0, truncations: 0, lastSkipReason: null, lastError: null };
  const index = createResultIndex({ maxQueriesPerSubject: options.maxQueriesPerSubject ?? 256, maxSubjects: options.maxSubjects ?? 50_000 });
  const follower = followLog(options, counters, index);

  // Polls are chained, never concurrent: the follower's offset is not safe to share.
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function pollNow(): Promise<void> {
    chain = chain
      .then(() => (closed ? undefined : follower.poll()))
      .catch((error: unknown) => {
        counters.lastError = error instanceof Error ? error.message : String(error);
        options.onError?.(error);
      });
    return chain;
  }

  function schedule(): void {
    if (closed) return;
    timer = setTimeout(() => void pollNow().then(schedule), pollIntervalMs);
    // A background tail must not keep the process alive on its own.
    timer.unref();
  }

  void pollNow().then(schedule);

  async function latest(subject: ResultsSubject): Promise<ReadonlyMap<string, QuerySnapshot>> {
    return index.latest(subject, now() - lookbackMs);
  }

  async function close(): Promise<void> {
    closed = true;
    clearTimeout(timer);
    await chain;
    await follower.close();
  }

  return {
    name: 'result-log',
    latest,
    close,
    pollNow,
    stats: () => ({ ...counters, ...index.size() }),
  };
}
