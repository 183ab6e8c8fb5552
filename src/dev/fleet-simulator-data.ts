// Loads and validates the Fleet simulator's demo data (config/fleet-simulator.yaml): the policies,
// hosts, device mappings and per-host policy results the simulated Fleet serves.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { GatewayError } from '../errors.ts';

const RELATIVE_TIME = /^(now|-(\d+)([smhd]))$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO timestamp, `now`, or a time relative to the simulator's start such as `-3d` / `-90m`. */
const timeSpec = z
  .string()
  .refine((value) => RELATIVE_TIME.test(value) || !Number.isNaN(Date.parse(value)), {
    message: "expected an ISO timestamp, 'now' or a relative time like '-3d'",
  });

const policyResponse = z.enum(['pass', 'fail', '']);

const policySchema = z.object({
  id: z.number().int().positive(),
  name: z.string().min(1),
  query: z.string().min(1),
  description: z.string().default(''),
  resolution: z.string().default(''),
  critical: z.boolean().default(false),
  /** Comma list as Fleet stores it ('darwin', 'windows,linux'); '' = every platform. */
  platform: z.string().default(''),
  /** null = a global policy; otherwise it applies to that team's hosts only. */
  team_id: z.number().int().positive().nullable().default(null),
  /** When the policy was added (served as `created_at`): recent policies have no results yet. */
  created_at: timeSpec.default('-90d'),
});

const hostSchema = z.object({
  id: z.number().int().positive(),
  uuid: z.string().min(1),
  hostname: z.string().min(1),
  computer_name: z.string().optional(),
  hardware_serial: z.string().default(''),
  hardware_model: z.string().default(''),
  platform: z.string().min(1),
  os_version: z.string().min(1),
  team_id: z.number().int().nullable().default(null),
  status: z.enum(['online', 'offline', 'new', 'mia']).default('online'),
  seen_time: timeSpec.default('now'),
  /** Defaults to seen_time: the agent last reported policies when it was last seen. */
  policy_updated_at: timeSpec.optional(),
  primary_ip: z.string().optional(),
  disk_encryption_enabled: z.boolean().default(true),
  emails: z.array(z.object({ email: z.string().min(3), source: z.string().default('custom') })).default([]),
  /** Keys are policy ids; policies that apply to the host but are not listed report ''. */
  policy_results: z.record(z.string().regex(/^\d+$/), policyResponse).default({}),
});

export const simulatorDataSchema = z
  .object({ policies: z.array(policySchema), hosts: z.array(hostSchema) })
  .superRefine((data, ctx) => {
    const policyIds = new Set(data.policies.map((policy) => policy.id));
    const hostIds = new Set<number>();
    data.hosts.forEach((host, index) => {
      if (hostIds.has(host.id)) ctx.addIssue({ code: 'custom', path: ['hosts', index, 'id'], message: 'duplicate host id' });
      hostIds.add(host.id);
      for (const policyId of Object.keys(host.policy_results)) {
        if (!policyIds.has(Number(policyId))) {
          ctx.addIssue({ code: 'custom', path: ['hosts', index, 'policy_results', policyId], message: 'unknown policy id' });
        }
      }
    });
  });

export type SimulatorData = z.infer<typeof simulatorDataSchema>;
export type SimulatorPolicy = SimulatorData['policies'][number];
export type SimulatorHost = SimulatorData['hosts'][number];
export type SimulatorPolicyResponse = z.infer<typeof policyResponse>;

/** Resolves a time spec against `nowMs`. */
export function resolveTimeMs(spec: string, nowMs: number): number {
  const match = RELATIVE_TIME.exec(spec);
  if (!match) return Date.parse(spec);
  if (match[1] === 'now') return nowMs;
  return nowMs - Number(match[2]) * (UNIT_MS[match[3] ?? 's'] ?? 1_000);
}

export function parseSimulatorData(raw: unknown, source = 'simulator data'): SimulatorData {
  const result = simulatorDataSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new GatewayError('TG_ERR_CONFIG_INVALID', `Invalid Fleet simulator data in ${source}`, {
    details: { issues: result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })) },
  });
}

export async function loadSimulatorData(file: string): Promise<SimulatorData> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new GatewayError('TG_ERR_CONFIG_UNREADABLE', `Cannot read Fleet simulator data ${file}`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new GatewayError('TG_ERR_CONFIG_INVALID', `Fleet simulator data ${file} is not valid YAML`, { cause: error });
  }
  return parseSimulatorData(raw, file);
}
