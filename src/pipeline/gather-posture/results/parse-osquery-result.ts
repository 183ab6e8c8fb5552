// Parses one osquery result (a line of osquery's filesystem logger or Fleet's result log) into the
// gateway's shape. Defensive by design: bad input yields `undefined` plus a reason, never a throw.
import type { QuerySnapshot } from '../results-source.ts';

export type ResultRow = Readonly<Record<string, string>>;

/** Everything a result line says about where and when it was produced. */
export interface ResultEnvelope {
  /** The full scheduled-query name as logged ("pack/Global/os_version"). */
  readonly name: string;
  readonly query: string;
  readonly pack: string | null;
  readonly hostIdentifier: string;
  readonly hostUuid: string | null;
  readonly username: string | null;
  readonly observedAtMs: number;
  readonly calendarTime: string | null;
  readonly epoch: number | null;
  readonly counter: number | null;
  readonly numerics: boolean;
  readonly decorations: Readonly<Record<string, string>>;
}

/**
 * - `snapshot`: a whole result set (snapshot format, `snapshot: [rows]`).
 * - `event-snapshot`: one row of a snapshot logged in event format; rows of one run share name + unixTime
 *   and must be grouped by the caller (see latest-snapshots.ts).
 * - `differential`: "added"/"removed" event lines and batch `diffResults`. The trust score needs the
 *   full current state, so sources ignore these for scoring (reconstructing state from diffs breaks
 *   silently after any lost, filtered or rotated-away line).
 */
export type OsqueryResult =
  | { readonly format: 'snapshot'; readonly envelope: ResultEnvelope; readonly rows: readonly ResultRow[] }
  | { readonly format: 'event-snapshot'; readonly envelope: ResultEnvelope; readonly row: ResultRow }
  | { readonly format: 'differential'; readonly envelope: ResultEnvelope; readonly added: readonly ResultRow[]; readonly removed: readonly ResultRow[] };

export type ParseOutcome =
  | { readonly result: OsqueryResult; readonly reason?: undefined }
  | { readonly result: undefined; readonly reason: string };

type Read<T> = { value: T; reason?: undefined } | { value?: undefined; reason: string };
type JsonObject = Record<string, unknown>;

/** Envelope keys osquery itself writes; with `--decorations_top_level` every other top-level key is a decoration. */
const RESERVED_KEYS = new Set(['name', 'hostIdentifier', 'hostname', 'calendarTime', 'unixTime', 'epoch', 'counter', 'numerics', 'decorations', 'action', 'columns', 'snapshot', 'diffResults']);
const NUMERIC = /^-?\d+(\.\d+)?$/;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Column values are strings; with `--logger_numerics` numbers arrive as JSON numbers, so turn them back. */
function columnValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  // null/objects: osquery never writes them; leave the column absent ("unknown"), not a guessed value.
  return undefined;
}

function readRow(value: unknown): ResultRow | undefined {
  if (!isObject(value)) return undefined;
  const row: Record<string, string> = {};
  for (const [column, raw] of Object.entries(value)) {
    const text = columnValue(raw);
    if (text !== undefined) row[column] = text;
  }
  return row;
}

function readRows(value: unknown, label: string): Read<ResultRow[]> {
  if (value === undefined) return { value: [] };
  if (!Array.isArray(value)) return { reason: `${label} is not an array` };
  const rows: ResultRow[] = [];
  for (const item of value) {
    const row = readRow(item);
    if (row === undefined) return { reason: `${label} holds a row that is not an object` };
    rows.push(row);
  }
  return { value: rows };
}

/** `counter`/`epoch`: JSON numbers since osquery 5.10, strings before; anything else is unknown. */
function readCount(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && NUMERIC.test(value)) return Number(value);
  return null;
}

function readUnixTimeMs(value: unknown): Read<number> {
  const seconds = readCount(value);
  if (seconds === null || seconds < 0) return { reason: 'unixTime is missing or not a number (a decorations_top_level collision overwrites it)' };
  return { value: Math.round(seconds * 1000) };
}

/** Nested `decorations`, or, with `--decorations_top_level`, every non-reserved top-level key. */
function readDecorations(line: JsonObject): Record<string, string> {
  const source: JsonObject = isObject(line.decorations)
    ? line.decorations
    : Object.fromEntries(Object.entries(line).filter(([key]) => !RESERVED_KEYS.has(key)));
  const decorations: Record<string, string> = {};
  for (const [key, raw] of Object.entries(source)) {
    const text = columnValue(raw);
    if (text !== undefined) decorations[key] = text;
  }
  return decorations;
}

/**
 * Fleet: `pack/Global/<query>`, `pack/team-<id>/<query>`; plain osquery: `pack_<pack>_<query>`.
 * Only the first two delimiters split: query names may contain spaces and the delimiter itself.
 */
export function splitQueryName(name: string): { pack: string | null; query: string } {
  for (const delimiter of ['/', '_']) {
    const prefix = `pack${delimiter}`;
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    const at = rest.indexOf(delimiter);
    if (at > 0 && at < rest.length - 1) return { pack: rest.slice(0, at), query: rest.slice(at + 1) };
  }
  return { pack: null, query: name };
}

function readEnvelope(line: JsonObject): Read<ResultEnvelope> {
  const name = nonEmptyString(line.name);
  if (name === null) return { reason: 'name is missing' };
  const time = readUnixTimeMs(line.unixTime);
  if (time.reason !== undefined) return { reason: time.reason };
  const decorations = readDecorations(line);
  const hostUuid = nonEmptyString(decorations.host_uuid);
  // Old agents (and osquery's docs) write `hostname` where current ones write `hostIdentifier`.
  const hostIdentifier = nonEmptyString(line.hostIdentifier) ?? nonEmptyString(line.hostname) ?? hostUuid;
  if (hostIdentifier === null) return { reason: 'hostIdentifier is missing' };
  return {
    value: {
      name,
      ...splitQueryName(name),
      hostIdentifier,
      hostUuid,
      username: nonEmptyString(decorations.username),
      observedAtMs: time.value,
      calendarTime: nonEmptyString(line.calendarTime),
      epoch: readCount(line.epoch),
      counter: readCount(line.counter),
      numerics: line.numerics === true || line.numerics === 'true',
      decorations,
    },
  };
}

function readBody(line: JsonObject, envelope: ResultEnvelope): ParseOutcome {
  if (line.snapshot !== undefined) {
    if (line.action !== undefined && line.action !== 'snapshot') return { result: undefined, reason: `snapshot rows with action ${JSON.stringify(line.action)}` };
    const rows = readRows(line.snapshot, 'snapshot');
    return rows.reason !== undefined ? { result: undefined, reason: rows.reason } : { result: { format: 'snapshot', envelope, rows: rows.value } };
  }
  if (line.columns !== undefined) {
    const row = readRow(line.columns);
    if (row === undefined) return { result: undefined, reason: 'columns is not an object' };
    if (line.action === 'snapshot') return { result: { format: 'event-snapshot', envelope, row } };
    if (line.action === 'added') return { result: { format: 'differential', envelope, added: [row], removed: [] } };
    if (line.action === 'removed') return { result: { format: 'differential', envelope, added: [], removed: [row] } };
    return { result: undefined, reason: 'columns without a known action' };
  }
  if (isObject(line.diffResults)) {
    const added = readRows(line.diffResults.added, 'diffResults.added');
    const removed = readRows(line.diffResults.removed, 'diffResults.removed');
    const reason = added.reason ?? removed.reason;
    if (reason !== undefined) return { result: undefined, reason };
    return { result: { format: 'differential', envelope, added: added.value ?? [], removed: removed.value ?? [] } };
  }
  return { result: undefined, reason: 'no snapshot, columns or diffResults' };
}

/** Parses an already-decoded JSON value (e.g. a pretty-printed result, or a rebuilt Elasticsearch document). */
export function parseOsqueryResult(value: unknown): ParseOutcome {
  if (!isObject(value)) return { result: undefined, reason: 'not a JSON object' };
  const envelope = readEnvelope(value);
  if (envelope.reason !== undefined) return { result: undefined, reason: envelope.reason };
  return readBody(value, envelope.value);
}

/** Parses one JSON line of a result log. */
export function parseOsqueryResultLine(line: string): ParseOutcome {
  const text = line.trim();
  if (text === '') return { result: undefined, reason: 'empty line' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { result: undefined, reason: 'not JSON' };
  }
  return parseOsqueryResult(value);
}

export function toQuerySnapshot(envelope: ResultEnvelope, rows: readonly ResultRow[]): QuerySnapshot {
  return {
    query: envelope.query,
    pack: envelope.pack,
    rows,
    observedAtMs: envelope.observedAtMs,
    hostUuid: envelope.hostUuid,
    hostIdentifier: envelope.hostIdentifier,
    username: envelope.username,
  };
}
