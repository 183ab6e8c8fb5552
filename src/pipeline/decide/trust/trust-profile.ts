// The trust-profile schema (zod): sections of points, osquery tables with weighted columns and their
// expectations, the browser-fingerprint table, and the bonus. Cross-field sums are checked here too.
import { z } from 'zod';
import { durationSchema, expectationSchema } from './expectation-schema.ts';

const identifier = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only');

const columnSchema = z.strictObject({
  /** The column as the profile names it (and as explanations show it). */
  name: identifier,
  /** Read the value from this osquery column instead (time.timezone is hardcoded "UTC"; local_timezone is not). */
  from: identifier.optional(),
  /** Weight within the table; a table's weights sum to 100. */
  weight: z.number().positive(),
  expect: expectationSchema,
  /** Multi-row tables: must any row, or every row, satisfy the expectation? */
  rows: z.enum(['any', 'all']).default('any'),
  /** Documentation only: the value changes between snapshots, so the rule must not be a fixed value. */
  varies: z.boolean().default(false),
  /**
   * When the column is absent (or empty in every row) because the platform lacks it, leave it out of the
   * table's total instead of counting it unknown (Windows-only sid; system_info fields Linux leaves empty).
   */
  optional: z.boolean().default(false),
});

const osqueryTableSchema = z.strictObject({
  kind: z.literal('osquery').default('osquery'),
  /** osquery table name; also the table's name in explanations and learned-value keys. */
  table: identifier,
  /** Scheduled query whose results hold the table (name without pack prefix); defaults to `table`. */
  query: z.string().min(1).optional(),
  /** Weight of the table within its section; omit on every table of a section for equal shares. */
  share: z.number().positive().optional(),
  /** Results older than this count as missing (overrides the profile's maxSnapshotAge). */
  maxAge: durationSchema.optional(),
  columns: z.array(columnSchema).min(1),
});

const browserTableSchema = z.strictObject({
  /** The requesting browser compared with the browsers this user was seen with (learned key "browser"). */
  kind: z.literal('browser-fingerprint'),
  table: identifier,
  share: z.number().positive().optional(),
  firstSeen: z.enum(['match', 'unknown']).default('match'),
  /** Compare the browser's major version too; false tolerates browser auto-updates. */
  matchVersion: z.boolean().default(true),
});

const tableSchema = z.discriminatedUnion('kind', [osqueryTableSchema, browserTableSchema]);

const sectionSchema = z.strictObject({
  name: z.string().min(1),
  /** Points the section is worth when every table scores full. */
  points: z.number().positive(),
  tables: z.array(tableSchema).min(1),
});

const profileObjectSchema = z.strictObject({
  sections: z.array(sectionSchema).min(1),
  /**
   * The source's "+1 to round to 100": awarded only when every section scores full, so a perfect
   * device scores 100 and any shortfall anywhere caps the score at 99.
   */
  bonus: z.number().min(0).default(1),
  /** Snapshots older than this count as missing; per-table maxAge overrides. Default: no limit. */
  maxSnapshotAge: durationSchema.optional(),
});

type RawProfile = z.output<typeof profileObjectSchema>;
type RawSection = RawProfile['sections'][number];

export const trustProfileSchema = profileObjectSchema
  .superRefine((profile, ctx) => {
    for (const problem of profileProblems(profile)) ctx.addIssue({ code: 'custom', ...problem });
  })
  .transform((profile) => ({ ...profile, sections: profile.sections.map(resolveSection) }));

export type TrustProfile = z.output<typeof trustProfileSchema>;
export type TrustProfileInput = z.input<typeof trustProfileSchema>;
export type TrustSection = TrustProfile['sections'][number];
export type TrustTable = TrustSection['tables'][number];
export type OsqueryTable = Extract<TrustTable, { kind: 'osquery' }>;
export type BrowserTable = Extract<TrustTable, { kind: 'browser-fingerprint' }>;
export type TrustColumn = OsqueryTable['columns'][number];

/** Learned values of a column are stored per user under "<table>.<column>"; the browser under "browser". */
export function learnedKey(table: string, column: string): string {
  return `${table}.${column}`;
}
export const BROWSER_LEARNED_KEY = 'browser';

interface Problem {
  path: (string | number)[];
  message: string;
}

// Sums are compared with a little slack so that weights like 33.3 + 33.3 + 33.4 are not rejected by
// floating-point noise.
const EPSILON = 1e-9;

function profileProblems(profile: RawProfile): Problem[] {
  const problems: Problem[] = [];
  const total = profile.sections.reduce((sum, s) => sum + s.points, 0) + profile.bonus;
  if (Math.abs(total - 100) > EPSILON) {
    problems.push({ path: ['sections'], message: `section points + bonus sum to ${round(total)}, must be 100` });
  }
  const sectionNames = new Set<string>();
  const tableNames = new Set<string>();
  profile.sections.forEach((section, s) => {
    if (sectionNames.has(section.name)) problems.push({ path: ['sections', s, 'name'], message: `duplicate section "${section.name}"` });
    sectionNames.add(section.name);
    problems.push(...sectionProblems(section, s, tableNames));
  });
  return problems;
}

function sectionProblems(section: RawSection, s: number, tableNames: Set<string>): Problem[] {
  const problems: Problem[] = [];
  const withShare = section.tables.filter((t) => t.share !== undefined).length;
  if (withShare !== 0 && withShare !== section.tables.length) {
    problems.push({ path: ['sections', s, 'tables'], message: 'give every table of the section a share, or none (equal shares)' });
  }
  section.tables.forEach((table, t) => {
    const path = ['sections', s, 'tables', t];
    // Learned values are keyed by table name, so one table may appear once in the whole profile.
    if (tableNames.has(table.table)) problems.push({ path: [...path, 'table'], message: `duplicate table "${table.table}"` });
    tableNames.add(table.table);
    if (table.kind !== 'osquery') return;
    const weights = table.columns.reduce((sum, c) => sum + c.weight, 0);
    if (Math.abs(weights - 100) > EPSILON) {
      problems.push({ path: [...path, 'columns'], message: `column weights of ${table.table} sum to ${round(weights)}, must be 100` });
    }
    const names = new Set<string>();
    table.columns.forEach((column, c) => {
      if (names.has(column.name)) problems.push({ path: [...path, 'columns', c, 'name'], message: `duplicate column "${column.name}"` });
      names.add(column.name);
    });
  });
  return problems;
}

// Equal shares when none are given; the query defaults to the table's name.
function resolveSection(section: RawSection) {
  return {
    ...section,
    tables: section.tables.map((table) =>
      table.kind === 'osquery'
        ? { ...table, share: table.share ?? 1, query: table.query ?? table.table }
        : { ...table, share: table.share ?? 1 },
    ),
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
