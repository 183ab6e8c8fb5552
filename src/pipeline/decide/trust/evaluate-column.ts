// Scores one profile column against a snapshot's rows: picks the user's rule (per user / group /
// default), checks any or every row, and reports the outcome, what was expected and seen, and what to learn.
import { isSelector, type Expectation, type PlainExpectation } from './expectation-schema.ts';
import { describeRule, localPart } from './describe-expectation.ts';
import type { TrustColumn } from './trust-profile.ts';

export type Outcome = 'match' | 'mismatch' | 'unknown' | 'skipped';

export interface TrustUser {
  email: string;
  sub: string;
  groups: readonly string[];
}

export interface ColumnContext {
  user: TrustUser;
  nowMs: number;
  /** Values learned for this column (empty when none yet). */
  known: readonly string[];
}

export interface ColumnVerdict {
  outcome: Outcome;
  expected: string;
  /** The values that decided the outcome (at most MAX_ACTUAL), null when the column was absent. */
  actual: string[] | null;
  /** How many further distinct values were left out of `actual`. */
  omitted: number;
  /** First sightings the caller must remember. */
  learn: string[];
}

type RuleOutcome = { outcome: 'match' | 'mismatch' | 'unknown'; learn: string[] };

const MAX_ACTUAL = 8;
// How many distinct values one first sighting may teach (an ARP cache can hold dozens of neighbours).
const MAX_LEARN = 16;
// A login time slightly in the future is clock skew, not an attack.
const CLOCK_SKEW_MS = 5 * 60_000;

/** The rules that apply to this user; empty means the column does not apply to them (skipped). */
export function rulesFor(expect: Expectation, user: TrustUser): PlainExpectation[] {
  if (!isSelector(expect)) return [expect];
  const perUser = expect.perUser;
  const email = user.email.toLowerCase();
  if (perUser && Object.hasOwn(perUser, email)) return [perUser[email] as PlainExpectation];
  const perGroup = expect.perGroup;
  const groups = perGroup ? user.groups.filter((g) => Object.hasOwn(perGroup, g)).map((g) => perGroup[g] as PlainExpectation) : [];
  if (groups.length > 0) return groups;
  return expect.default ? [expect.default] : [];
}

export function evaluateColumn(column: TrustColumn, rows: readonly Readonly<Record<string, string>>[], ctx: ColumnContext): ColumnVerdict {
  const source = column.from ?? column.name;
  const rules = rulesFor(column.expect, ctx.user);
  const facts = { email: ctx.user.email, sub: ctx.user.sub, known: ctx.known };
  const expected = rules.map((r) => describeRule(r, facts)).join(' or ') + (column.rows === 'all' ? ' (every row)' : '');
  if (rules.length === 0) return { outcome: 'skipped', expected: 'no rule for this user', actual: null, omitted: 0, learn: [] };
  // Values are osquery's strings; a numeric-mode agent could send numbers, which compare as their text.
  const values = rows.filter((row) => Object.hasOwn(row, source)).map((row) => String(row[source] ?? ''));
  const empty = values.every((v) => v === '');
  if (values.length === 0 || (column.optional && empty)) {
    return { outcome: column.optional ? 'skipped' : 'unknown', expected, actual: values.length === 0 ? null : [''], omitted: 0, learn: [] };
  }
  const results = rules.map((rule) => evaluateRule(rule, values, column.rows, ctx));
  // Several groups' rules: any of them matching is enough.
  const outcome = results.some((r) => r.outcome === 'match')
    ? 'match'
    : results.some((r) => r.outcome === 'mismatch')
      ? 'mismatch'
      : 'unknown';
  const learn = [...new Set(results.flatMap((r) => r.learn))];
  const decisive = decisiveValues(values, column.rows, outcome, (v) => rules.some((rule) => passes(rule, v, ctx)));
  return { outcome, expected, actual: decisive.slice(0, MAX_ACTUAL), omitted: Math.max(0, decisive.length - MAX_ACTUAL), learn };
}

function evaluateRule(rule: PlainExpectation, values: readonly string[], rows: 'any' | 'all', ctx: ColumnContext): RuleOutcome {
  if ('includesAll' in rule) {
    const seen = new Set(values.map((v) => (rule.ignoreCase ? v.toLowerCase() : v)));
    const ok = rule.includesAll.every((want) => seen.has(rule.ignoreCase ? want.toLowerCase() : want));
    return { outcome: ok ? 'match' : 'mismatch', learn: [] };
  }
  if ('learned' in rule && ctx.known.length === 0) {
    return { outcome: rule.firstSeen, learn: [...new Set(values)].slice(0, MAX_LEARN) };
  }
  const ok = rows === 'all' ? values.every((v) => passes(rule, v, ctx)) : values.some((v) => passes(rule, v, ctx));
  return { outcome: ok ? 'match' : 'mismatch', learn: [] };
}

/** Whether one row's value satisfies a per-value rule (includesAll is set-level and judged elsewhere). */
export function passes(rule: PlainExpectation, value: string, ctx: ColumnContext): boolean {
  if ('values' in rule) {
    return rule.ignoreCase ? rule.values.some((v) => v.toLowerCase() === value.toLowerCase()) : rule.values.includes(value);
  }
  if ('pattern' in rule) return rule.regex.test(value);
  if ('range' in rule) {
    const n = toNumber(value);
    return n !== null && (rule.range.min === undefined || n >= rule.range.min) && (rule.range.max === undefined || n <= rule.range.max);
  }
  if ('recentWithin' in rule) {
    const seconds = toNumber(value);
    if (seconds === null) return false;
    const atMs = seconds * 1000;
    return atMs <= ctx.nowMs + CLOCK_SKEW_MS && ctx.nowMs - atMs <= rule.recentWithin;
  }
  if ('equalsUser' in rule) return equalsUser(rule.equalsUser, value, ctx.user);
  if ('learned' in rule) return ctx.known.includes(value);
  if ('present' in rule) return value !== '';
  return rule.includesAll.includes(value);
}

function equalsUser(form: 'email' | 'email-local-part' | 'sub', value: string, user: TrustUser): boolean {
  if (form === 'sub') return value === user.sub;
  if (user.email === '') return false;
  if (form === 'email') return value.toLowerCase() === user.email.toLowerCase();
  // Windows may report "DOMAIN\alice"; the account part is what names the person.
  const account = value.slice(value.lastIndexOf('\\') + 1);
  return account.toLowerCase() === localPart(user.email).toLowerCase();
}

function toNumber(value: string): number | null {
  if (value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

// What to show as "saw": for a failed every-row rule the offending values, for a met any-row rule the
// values that met it, otherwise every distinct value.
function decisiveValues(values: readonly string[], rows: 'any' | 'all', outcome: string, ok: (v: string) => boolean): string[] {
  const distinct = [...new Set(values)];
  if (rows === 'all' && outcome === 'mismatch') return distinct.filter((v) => !ok(v));
  if (rows === 'any' && outcome === 'match') {
    const passing = distinct.filter(ok);
    return passing.length > 0 ? passing : distinct;
  }
  return distinct;
}
