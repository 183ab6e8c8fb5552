// The recent decisions, kept in memory (a ring buffer) for the admin pages: who, which device, which
// route, verdict, reasons and trust score with its explanation. The log file has the full history.
export interface JournalEntry {
  readonly time: string;
  readonly requestId: string;
  readonly user: string | undefined;
  readonly groups: readonly string[];
  readonly device: string | undefined;
  readonly route: string | undefined;
  readonly path: string | undefined;
  readonly verdict: string | undefined;
  readonly reasons: readonly string[];
  readonly trustScore: number | undefined;
  readonly trust: unknown;
  /** Failing Fleet policy ids of the checked device(s), for "who would be denied" previews. */
  readonly failingPolicies: readonly number[];
  /** Policy results as Fleet reported them, by id (for previews of new requirements). */
  readonly policyResults: Readonly<Record<number, string>>;
}

export interface DecisionJournal {
  /** Takes a function: the entry is only built when an admin page reads it, not on the request path. */
  add(entry: () => JournalEntry): void;
  /** Newest first. */
  recent(filter?: { user?: string; route?: string; verdict?: string; limit?: number }): JournalEntry[];
}

export function createDecisionJournal(capacity = 2000): DecisionJournal {
  const entries: Array<() => JournalEntry> = [];
  let next = 0;
  return {
    add(entry) {
      if (entries.length < capacity) entries.push(entry);
      else entries[next] = entry;
      next = (next + 1) % capacity;
    },
    recent(filter = {}) {
      const ordered = [...entries.slice(next), ...entries.slice(0, next)].reverse().map((build) => build());
      return ordered
        .filter((e) => (!filter.user || e.user?.includes(filter.user)) && (!filter.route || e.route === filter.route) && (!filter.verdict || e.verdict === filter.verdict))
        .slice(0, filter.limit ?? 200);
    },
  };
}
