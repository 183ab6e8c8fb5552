// Renders a TrustScore for people and logs: a compact object for the decision log (only what fell
// short is listed), and readable lines for admins ("Device 24.75/33 — os_version 0.6: version mismatch …").
import { describeBrowser } from './browser-fingerprint.ts';
import { listValues } from './describe-expectation.ts';
import type { ColumnScore, TableScore, TrustScore } from './score-trust.ts';

export interface TrustShortfall {
  /** "<table>.<column>" */
  column: string;
  outcome: 'mismatch' | 'unknown';
  expected: string;
  actual: string[] | null;
}

export interface TrustLogEntry {
  score: number;
  bonus: number;
  unknownColumns: number;
  /** Section name → points earned. */
  sections: Record<string, number>;
  /** Tables without usable data, with why ("os_version: stale"). */
  missingTables: string[];
  shortfalls: TrustShortfall[];
  learned: number;
}

export function trustLogEntry(score: TrustScore): TrustLogEntry {
  const tables = score.sections.flatMap((s) => s.tables);
  const shortfalls: TrustShortfall[] = [];
  for (const table of tables) {
    // A missing table's columns are all unknown; one missingTables entry says it more briefly.
    if (table.missing) continue;
    for (const c of table.columns) {
      if (c.outcome === 'mismatch' || c.outcome === 'unknown') {
        shortfalls.push({ column: `${table.table}.${c.name}`, outcome: c.outcome, expected: c.expected, actual: c.actual });
      }
    }
  }
  return {
    score: score.score,
    bonus: score.bonus.points,
    unknownColumns: score.unknownColumns,
    sections: Object.fromEntries(score.sections.map((s) => [s.name, s.points])),
    missingTables: tables.filter((t) => t.missing).map((t) => `${t.table}: ${t.status}`),
    shortfalls,
    learned: score.learn.length,
  };
}

export interface ExplainOptions {
  /** Also list every column that matched or was skipped, one line each. */
  detailed?: boolean;
}

/** Lines for admins: the total, then one line per section naming every table that fell short and why. */
export function explainTrust(score: TrustScore, options: ExplainOptions = {}): string[] {
  const bonusNote = score.bonus.points > 0 ? 'every section full' : 'not every section full';
  const unknownNote = score.unknownColumns > 0 ? `; ${score.unknownColumns} column(s) unknown` : '';
  const lines = [`Trust ${score.score}/100 (bonus ${num(score.bonus.points)}/${num(score.bonus.maxPoints)}: ${bonusNote}${unknownNote})`];
  for (const section of score.sections) {
    const short = section.tables.filter((t) => t.ratio < 1 || t.missing).map(describeTable);
    lines.push([`${section.name} ${num(section.points)}/${num(section.maxPoints)}`, ...short].join(' — '));
    if (!options.detailed) continue;
    for (const table of section.tables) {
      for (const c of table.columns) lines.push(`  ${table.table}.${c.name} ${detail(table, c)}`);
    }
  }
  return lines;
}

function describeTable(table: TableScore): string {
  if (table.missing) return `${table.table} 0: ${table.status === 'stale' ? 'data too old' : 'no data'} (all columns unknown)`;
  const problems = table.columns.filter((c) => c.outcome === 'mismatch' || c.outcome === 'unknown').map((c) => describeColumn(table, c));
  return `${table.table} ${num(table.ratio)}: ${problems.join('; ')}`;
}

function describeColumn(table: TableScore, column: ColumnScore): string {
  if (column.outcome === 'unknown' && column.actual === null) {
    return `${column.name} unknown (no value reported; expected ${column.expected})`;
  }
  return `${column.name} ${column.outcome} (expected ${column.expected}${saw(table, column)})`;
}

function saw(table: TableScore, column: ColumnScore): string {
  if (column.actual === null) return '';
  const values = table.kind === 'browser-fingerprint' ? column.actual.map(describeBrowser) : column.actual;
  const more = column.omitted > 0 ? ` (+${column.omitted} more)` : '';
  return `, saw ${listValues(values)}${more}`;
}

function detail(table: TableScore, c: ColumnScore): string {
  // A skipped column has no rule for this user or is not reported on this platform: its weight is not counted.
  if (c.outcome === 'skipped') return `skipped (weight ${num(c.weight)} not counted)`;
  return `${c.outcome} ${num(c.points)} (weight ${num(c.weight)}; expected ${c.expected}${saw(table, c)})`;
}

function num(value: number): string {
  return String(Math.round(value * 100) / 100);
}
