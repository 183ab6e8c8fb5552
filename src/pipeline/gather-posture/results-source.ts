// The one interface every osquery results source implements (Elasticsearch, the result-log file):
// "the latest snapshot rows of each query for this device or this user".

/** Rows of one scheduled query, as of its newest result. Column values are osquery's strings. */
export interface QuerySnapshot {
  /** The query's own name, without pack prefix: "pack/Global/trust os_version" → "trust os_version". */
  readonly query: string;
  /** Pack ("Global", "team-3", or a plain osquery pack name); null when the result had no pack. */
  readonly pack: string | null;
  readonly rows: readonly Readonly<Record<string, string>>[];
  /** When osquery produced the result (unixTime), in ms. */
  readonly observedAtMs: number;
  /** decorations.host_uuid (Fleet's host uuid) when present. */
  readonly hostUuid: string | null;
  /** The host identifier the agent reported (hostIdentifier). */
  readonly hostIdentifier: string;
  /** decorations.username (or the configured username field) when present. */
  readonly username: string | null;
}

export interface ResultsSubject {
  /** Fleet host uuid of the device (preferred). */
  readonly hostUuid?: string;
  /** The user's name as the results carry it (e.g. a `username` decoration). */
  readonly username?: string;
}

export interface ResultsSource {
  readonly name: 'elasticsearch' | 'result-log';
  /** Newest snapshot per query name; an empty map when nothing is known (unknown, never "all fine"). */
  latest(subject: ResultsSubject): Promise<ReadonlyMap<string, QuerySnapshot>>;
  close(): Promise<void>;
}
