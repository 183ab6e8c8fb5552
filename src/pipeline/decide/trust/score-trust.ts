// The trust score, purely: profile + osquery snapshots + user + browser + learned values + clock in,
// a 0–100 score with a column-by-column account out. Learned values are loaded and stored by the caller.
import type { QuerySnapshot } from '../../gather-posture/results-source.ts';
import { plainRules } from './expectation-schema.ts';
import { evaluateColumn, type ColumnVerdict, type Outcome, type TrustUser } from './evaluate-column.ts';
import { browserMatches, describeBrowser } from './browser-fingerprint.ts';
import { listValues } from './describe-expectation.ts';
import type { LearnedValues } from './learned-values.ts';
import { BROWSER_LEARNED_KEY, learnedKey, type BrowserTable, type OsqueryTable, type TrustProfile, type TrustSection } from './trust-profile.ts';

export interface TrustInput {
  profile: TrustProfile;
  /** Newest snapshot per scheduled-query name (ResultsSource.latest). */
  snapshots: ReadonlyMap<string, QuerySnapshot>;
  user: TrustUser;
  /** The requesting browser's fingerprint (null: its headers said nothing) and the user's known ones. */
  browser: { fingerprint: string | null; known: readonly string[] };
  /** Learned values by key ("<table>.<column>"), as loadLearnedFor returns them. */
  learned: ReadonlyMap<string, readonly string[]>;
  nowMs: number;
}

export interface ColumnScore {
  name: string;
  weight: number;
  outcome: Outcome;
  expected: string;
  actual: string[] | null;
  /** Distinct values left out of `actual` to keep it short. */
  omitted: number;
  points: number;
}

export interface TableScore {
  table: string;
  kind: 'osquery' | 'browser-fingerprint';
  points: number;
  maxPoints: number;
  /** Matched weight ÷ counted weight, 0–1 (2 decimals). */
  ratio: number;
  /** No usable data: no snapshot, no rows, or older than maxAge (`status` says which). */
  missing: boolean;
  status: 'ok' | 'missing' | 'stale';
  observedAtMs: number | null;
  columns: ColumnScore[];
}

export interface SectionScore {
  name: string;
  points: number;
  maxPoints: number;
  /** Every counted column matched: the precondition for the bonus. */
  full: boolean;
  tables: TableScore[];
}

export interface TrustScore {
  /** 0–100, integer. */
  score: number;
  sections: SectionScore[];
  bonus: { points: number; maxPoints: number };
  /** First sightings the caller must remember (rememberLearned). */
  learn: { key: string; value: string }[];
  unknownColumns: number;
}

// A table before it is placed in its section: what fraction of its counted weight matched.
interface RawTable {
  score: Omit<TableScore, 'points' | 'maxPoints' | 'ratio' | 'columns'>;
  verdicts: { name: string; weight: number; verdict: ColumnVerdict }[];
  learn: { key: string; value: string }[];
}

export function scoreTrust(input: TrustInput): TrustScore {
  const sections = input.profile.sections.map((section) => scoreSection(section, input));
  const allFull = sections.every((s) => s.section.full);
  const bonus = allFull ? input.profile.bonus : 0;
  const total = sections.reduce((sum, s) => sum + s.rawPoints, 0) + bonus;
  const tables = sections.flatMap((s) => s.section.tables);
  return {
    // Round away float noise first (32.999999999 → 33), then to the integer score.
    score: Math.min(100, Math.max(0, Math.round(Math.round(total * 1e6) / 1e6))),
    sections: sections.map((s) => s.section),
    bonus: { points: bonus, maxPoints: input.profile.bonus },
    learn: sections.flatMap((s) => s.learn),
    unknownColumns: tables.reduce((n, t) => n + t.columns.filter((c) => c.outcome === 'unknown').length, 0),
  };
}

function scoreSection(section: TrustSection, input: TrustInput) {
  const raws = section.tables.map((table) => (table.kind === 'osquery' ? scoreOsqueryTable(table, input) : scoreBrowserTable(table, input)));
  const counted = raws.map((raw) => raw.verdicts.reduce((sum, v) => sum + (v.verdict.outcome === 'skipped' ? 0 : v.weight), 0));
  // A table whose every column was skipped leaves the section's total (like an optional column its table's).
  const shares = section.tables.map((table, i) => ((counted[i] ?? 0) > 0 ? table.share : 0));
  const shareSum = shares.reduce((a, b) => a + b, 0);
  let rawPoints = 0;
  const tables = raws.map((raw, i) => {
    const maxPoints = shareSum === 0 ? 0 : (section.points * (shares[i] ?? 0)) / shareSum;
    const weightSum = counted[i] ?? 0;
    const columns = raw.verdicts.map(({ name, weight, verdict }) => {
      const points = verdict.outcome === 'match' && weightSum > 0 ? (maxPoints * weight) / weightSum : 0;
      return { name, weight, outcome: verdict.outcome, expected: verdict.expected, actual: verdict.actual, omitted: verdict.omitted, points };
    });
    const matched = raw.verdicts.reduce((sum, v) => sum + (v.verdict.outcome === 'match' ? v.weight : 0), 0);
    const ratio = weightSum === 0 ? 0 : matched / weightSum;
    rawPoints += maxPoints * ratio;
    return { ...raw.score, points: round2(maxPoints * ratio), maxPoints: round2(maxPoints), ratio: round2(ratio), columns: columns.map(roundPoints) };
  });
  const full = shareSum > 0 && raws.every((raw) => raw.verdicts.every((v) => v.verdict.outcome === 'match' || v.verdict.outcome === 'skipped'));
  const learn = raws.flatMap((raw) => raw.learn);
  return { section: { name: section.name, points: round2(rawPoints), maxPoints: section.points, full, tables }, rawPoints, learn };
}

function scoreOsqueryTable(table: OsqueryTable, input: TrustInput): RawTable {
  const snapshot = input.snapshots.get(table.query);
  const maxAge = table.maxAge ?? input.profile.maxSnapshotAge;
  const status: TableScore['status'] =
    snapshot === undefined || snapshot.rows.length === 0
      ? 'missing'
      : maxAge !== undefined && input.nowMs - snapshot.observedAtMs > maxAge
        ? 'stale'
        : 'ok';
  const learn: RawTable['learn'] = [];
  const verdicts = table.columns.map((column) => {
    const key = learnedKey(table.table, column.name);
    const ctx = { user: input.user, nowMs: input.nowMs, known: input.learned.get(key) ?? [] };
    // Without usable data every column is unknown, optional ones included: the platform is not known either.
    const verdict = status === 'ok' ? evaluateColumn(column, snapshot?.rows ?? [], ctx) : evaluateColumn({ ...column, optional: false }, [], ctx);
    for (const value of verdict.learn) learn.push({ key, value });
    return { name: column.name, weight: column.weight, verdict };
  });
  const score = { table: table.table, kind: 'osquery' as const, missing: status !== 'ok', status, observedAtMs: snapshot?.observedAtMs ?? null };
  return { score, verdicts, learn };
}

function scoreBrowserTable(table: BrowserTable, input: TrustInput): RawTable {
  const { fingerprint, known } = input.browser;
  const described = known.map(describeBrowser);
  const firstSighting = table.firstSeen === 'match' ? 'first sighting: any browser, learned now' : 'first sighting: learned now, unknown until seen again';
  const expected = known.length === 0 ? firstSighting : `a browser this user was seen with (${listValues(described)})`;
  let verdict: ColumnVerdict;
  if (fingerprint === null) {
    verdict = { outcome: 'unknown', expected, actual: null, omitted: 0, learn: [] };
  } else if (known.length === 0) {
    verdict = { outcome: table.firstSeen, expected, actual: [fingerprint], omitted: 0, learn: [fingerprint] };
  } else {
    const ok = browserMatches(fingerprint, known, { matchVersion: table.matchVersion });
    verdict = { outcome: ok ? 'match' : 'mismatch', expected, actual: [fingerprint], omitted: 0, learn: [] };
  }
  const score = { table: table.table, kind: 'browser-fingerprint' as const, missing: false, status: 'ok' as const, observedAtMs: null };
  return { score, verdicts: [{ name: 'fingerprint', weight: 100, verdict }], learn: verdict.learn.map((value) => ({ key: BROWSER_LEARNED_KEY, value })) };
}

/** The learned values scoring needs for this user: every learned column's key, and "browser". */
export async function loadLearnedFor(profile: TrustProfile, store: LearnedValues, user: string): Promise<ReadonlyMap<string, readonly string[]>> {
  const keys = new Set<string>();
  for (const section of profile.sections) {
    for (const table of section.tables) {
      if (table.kind === 'browser-fingerprint') keys.add(BROWSER_LEARNED_KEY);
      else for (const column of table.columns) if (plainRules(column.expect).some((r) => 'learned' in r)) keys.add(learnedKey(table.table, column.name));
    }
  }
  const entries = await Promise.all([...keys].map(async (key) => [key, await store.get(user, key)] as const));
  return new Map(entries);
}

/** Stores a score's first sightings; call after the decision is made (scoring itself never writes). */
export async function rememberLearned(store: LearnedValues, user: string, learn: TrustScore['learn']): Promise<void> {
  for (const { key, value } of learn) await store.remember(user, key, value);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function roundPoints(column: ColumnScore): ColumnScore {
  return { ...column, points: round2(column.points) };
}
