// The expectation language of a trust-profile column (zod): what value, or which rule, an osquery
// column must satisfy. Plain rules compose into a per-user / per-group / default selector.
import { z } from 'zod';
import { parseDuration } from '../../../config/parse-duration.ts';

/** "30d", "12h", … or a number of seconds → milliseconds (same grammar as the gateway config). */
export const durationSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a duration: ${JSON.stringify(value)} (use e.g. 30s, 15m, 12h, 7d)` });
    return z.NEVER;
  }
  return ms;
});

const valuesRule = z.strictObject({
  /** Exact values (case-sensitive unless ignoreCase). "" is a real value (e.g. a local login's empty host). */
  values: z.array(z.string()).min(1),
  ignoreCase: z.boolean().default(false),
});

// The regular expression is compiled once, at load time, so scoring never compiles (and a bad pattern
// is a load error, not a request-time one). No g/y flags: test() then keeps no state.
const patternRule = z
  .strictObject({ pattern: z.string().min(1), ignoreCase: z.boolean().default(false) })
  .transform((rule, ctx) => {
    try {
      return { ...rule, regex: new RegExp(rule.pattern, rule.ignoreCase ? 'i' : '') };
    } catch (cause) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: `not a regular expression: ${(cause as Error).message}` });
      return z.NEVER;
    }
  });

const rangeRule = z.strictObject({
  /** Numeric bounds, inclusive; for columns that vary (hour, pid, uid). */
  range: z
    .strictObject({ min: z.number().optional(), max: z.number().optional() })
    .refine((r) => r.min !== undefined || r.max !== undefined, 'give min, max or both')
    .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, 'min must not exceed max'),
});

const recentRule = z.strictObject({
  /** A unix-time column (seconds) must lie within this long before now (logged_in_users.time). */
  recentWithin: durationSchema,
});

const equalsUserRule = z.strictObject({
  /** The value must name the signed-in user (case-insensitive for the email forms). */
  equalsUser: z.enum(['email', 'email-local-part', 'sub']),
});

const learnedRule = z.strictObject({
  /** The values first seen for this user become the expected ones (trust on first use). */
  learned: z.literal(true),
  /** How a first sighting counts: as a match (TOFU, default) or as unknown (no points until confirmed). */
  firstSeen: z.enum(['match', 'unknown']).default('match'),
});

const presentRule = z.strictObject({
  /** Any non-empty value. */
  present: z.literal(true),
});

const includesAllRule = z.strictObject({
  /** Every listed value must appear in some row (e.g. agent processes that must all run). Ignores `rows`. */
  includesAll: z.array(z.string().min(1)).min(1),
  ignoreCase: z.boolean().default(false),
});

/** A single rule (no selector). */
export const plainExpectationSchema = z.union([
  valuesRule,
  patternRule,
  rangeRule,
  recentRule,
  equalsUserRule,
  learnedRule,
  presentRule,
  includesAllRule,
]);

/** Forms named in "expected one of" load errors. */
export const EXPECTATION_FORMS = ['values', 'pattern', 'range', 'recentWithin', 'equalsUser', 'learned', 'present', 'includesAll'];

// Per-user beats per-group beats default. Emails are compared lower-cased, so keys are lower-cased here.
const selectorRule = z
  .strictObject({
    perUser: z.record(z.string().min(1), plainExpectationSchema).optional(),
    perGroup: z.record(z.string().min(1), plainExpectationSchema).optional(),
    default: plainExpectationSchema.optional(),
  })
  .refine((s) => s.perUser !== undefined || s.perGroup !== undefined || s.default !== undefined, 'give perUser, perGroup or default')
  .transform((s) => ({
    ...s,
    perUser: s.perUser === undefined ? undefined : Object.fromEntries(Object.entries(s.perUser).map(([k, v]) => [k.toLowerCase(), v])),
  }));

export const expectationSchema = z.union([plainExpectationSchema, selectorRule]);

export type PlainExpectation = z.output<typeof plainExpectationSchema>;
export type SelectorExpectation = z.output<typeof selectorRule>;
export type Expectation = z.output<typeof expectationSchema>;
export type ExpectationInput = z.input<typeof expectationSchema>;

export function isSelector(expectation: Expectation): expectation is SelectorExpectation {
  return 'perUser' in expectation || 'perGroup' in expectation || 'default' in expectation;
}

/** Every plain rule a (possibly selector) expectation can resolve to. */
export function plainRules(expectation: Expectation): PlainExpectation[] {
  if (!isSelector(expectation)) return [expectation];
  return [
    ...Object.values(expectation.perUser ?? {}),
    ...Object.values(expectation.perGroup ?? {}),
    ...(expectation.default === undefined ? [] : [expectation.default]),
  ];
}
