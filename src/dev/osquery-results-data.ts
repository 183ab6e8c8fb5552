// Loads and validates the demo's osquery result rows per simulated host (config/demo-osquery-results.yaml),
// the data the demo's results writer turns into a Fleet-style result log.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { GatewayError } from '../errors.ts';
import { parseDuration } from '../config/parse-duration.ts';

const duration = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a duration: ${JSON.stringify(value)} (use e.g. 90m, 3h, 2d)` });
    return z.NEVER;
  }
  return ms;
});

/**
 * A column value: osquery's text, a number (written as text, as osquery does without
 * --logger_numerics), or `{ ago: 2d }` — Unix seconds that long before each write (login times).
 */
const cellSchema = z.union([z.string(), z.number(), z.strictObject({ ago: duration })]);

/**
 * `$clock` fills the osquery `time` table's columns from a clock: `true` the writer's clock, or an ISO
 * instant at which the device's (wrong) clock stood when the writer started; columns given beside it win.
 */
const rowSchema = z.record(z.string().min(1), z.union([cellSchema, z.literal(true)])).superRefine((row, ctx) => {
  for (const [key, value] of Object.entries(row)) {
    const clock = value === true || (typeof value === 'string' && !Number.isNaN(Date.parse(value)));
    if (key === '$clock' && !clock) ctx.addIssue({ code: 'custom', path: [key], message: '$clock is true or an ISO date-time' });
    if (key !== '$clock' && value === true) ctx.addIssue({ code: 'custom', path: [key], message: 'column values are text or numbers' });
  }
});

const hostSchema = z.strictObject({
  /** Fleet's host uuid (config/fleet-simulator.yaml): the `host_uuid` decoration and hostIdentifier. */
  uuid: z.string().min(1),
  hostname: z.string().min(1),
  /** The `username` decoration (trust.subject: user). */
  username: z.string().min(1),
  /** An offline host reported once, this long before the writer started, and not since. */
  offlineSince: duration.optional(),
  /** Scheduled query name → the rows of its snapshot (`pack/Global/<name>` in the log). */
  queries: z.record(z.string().min(1), z.array(rowSchema)),
});

export const resultsDataSchema = z.strictObject({ hosts: z.array(hostSchema).min(1) });

export type ResultsHost = z.output<typeof hostSchema>;
export type RowTemplate = ResultsHost['queries'][string][number];

export function parseResultsData(text: string, origin: string): ResultsHost[] {
  const parsed = resultsDataSchema.safeParse(parseYaml(text));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    throw new GatewayError('TG_ERR_CONFIG_INVALID', `${origin}: ${problems}`);
  }
  return parsed.data.hosts;
}

export async function loadResultsData(file: string): Promise<ResultsHost[]> {
  return parseResultsData(await readFile(file, 'utf8'), file);
}
