// The demo's stand-in for Fleet's osquery result log: appends one snapshot line per scheduled query per
// simulated host (Fleet's JSON-lines format, `pack/Global/<query>`) at start and every intervalMs.
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ResultsHost, RowTemplate } from './osquery-results-data.ts';

export interface ResultsWriterOptions {
  /** The result log; its directory is created, and lines are appended (never truncated). */
  file: string;
  hosts: readonly ResultsHost[];
  intervalMs: number;
  now?: () => number;
}

export interface ResultsWriter {
  readonly file: string;
  /** Appends one round for the online hosts now; resolves when it is on disk. */
  writeNow(): Promise<void>;
  close(): Promise<void>;
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad = (n: number): string => String(n).padStart(2, '0');

/** osquery's calendarTime: "Wed Jan 29 22:17:17 2025 UTC". */
export function calendarTime(ms: number): string {
  const d = new Date(ms);
  const clock = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${WEEKDAYS[d.getUTCDay()]?.slice(0, 3)} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${clock} ${d.getUTCFullYear()} UTC`;
}

/** The osquery `time` table's row for a clock reading (osquery reports it in UTC). */
function timeColumns(ms: number): Record<string, string> {
  const d = new Date(ms);
  const iso = `${d.toISOString().slice(0, 19)}Z`;
  return {
    weekday: WEEKDAYS[d.getUTCDay()] ?? '',
    year: String(d.getUTCFullYear()),
    month: String(d.getUTCMonth() + 1),
    day: String(d.getUTCDate()),
    hour: String(d.getUTCHours()),
    minutes: String(d.getUTCMinutes()),
    seconds: String(d.getUTCSeconds()),
    timezone: 'UTC',
    unix_time: String(Math.floor(ms / 1000)),
    timestamp: `${d.toUTCString().replace('GMT', 'UTC')}`,
    datetime: iso,
    iso_8601: iso,
  };
}

/** Resolves a row template at `nowMs` (`startedMs`: when the writer started, for a device's own clock). */
export function resolveRow(template: RowTemplate, nowMs: number, startedMs: number): Record<string, string> {
  const row: Record<string, string> = {};
  const clock = template.$clock;
  if (clock !== undefined) {
    const deviceMs = clock === true || typeof clock !== 'string' ? nowMs : Date.parse(clock) + (nowMs - startedMs);
    Object.assign(row, timeColumns(deviceMs));
  }
  for (const [column, value] of Object.entries(template)) {
    if (column === '$clock' || value === true) continue;
    row[column] = typeof value === 'object' ? String(Math.floor((nowMs - value.ago) / 1000)) : String(value);
  }
  return row;
}

/** One Fleet result-log line per query: the snapshot format with Fleet's pack naming and decorations. */
export function snapshotLines(host: ResultsHost, atMs: number, startedMs = atMs): string[] {
  return Object.entries(host.queries).map(([query, rows]) =>
    JSON.stringify({
      snapshot: rows.map((row) => resolveRow(row, atMs, startedMs)),
      action: 'snapshot',
      name: `pack/Global/${query}`,
      hostIdentifier: host.uuid,
      calendarTime: calendarTime(atMs),
      unixTime: Math.floor(atMs / 1000),
      epoch: 0,
      counter: 0,
      numerics: false,
      decorations: { host_uuid: host.uuid, hostname: host.hostname, username: host.username },
    }),
  );
}

export async function startOsqueryResultsWriter(options: ResultsWriterOptions): Promise<ResultsWriter> {
  const now = options.now ?? Date.now;
  const startedMs = now();
  await mkdir(path.dirname(options.file), { recursive: true });

  let chain: Promise<void> = Promise.resolve();
  let first = true;
  const append = (lines: string[]): Promise<void> => (lines.length === 0 ? Promise.resolve() : appendFile(options.file, `${lines.join('\n')}\n`));

  function writeNow(): Promise<void> {
    const round = first;
    first = false;
    const run = chain.then(() => {
      const atMs = now();
      // An offline host reported once, back when it was last online; it stays silent afterwards.
      const lines = options.hosts.flatMap((host) =>
        host.offlineSince === undefined ? snapshotLines(host, atMs, startedMs) : round ? snapshotLines(host, startedMs - host.offlineSince, startedMs) : [],
      );
      return append(lines);
    });
    // A failed append (disk full…) does not stop later rounds.
    chain = run.catch(() => undefined);
    return run;
  }

  await writeNow();
  const timer = setInterval(() => void writeNow().catch(() => undefined), options.intervalMs);
  timer.unref();

  return {
    file: options.file,
    writeNow,
    async close() {
      clearInterval(timer);
      await chain;
    },
  };
}
