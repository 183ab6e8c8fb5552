// Reads a YAML config file: parse → substitute ${ENV} secrets → validate with the schema and the secret
// rule → cross-field checks → freeze. Every problem is collected with its path and reported at once (as oauth2-proxy does).
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { GatewayError } from '../errors.ts';
import { configSchema, type GatewayConfig } from './schema.ts';
import { redactExpansions, substituteEnv, type Expansion } from './substitute-env.ts';
import { checkSecrets } from './check-secrets.ts';
import { crossCheckConfig } from './cross-check.ts';

export interface ConfigProblem {
  path: string;
  message: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

export async function loadConfigFile(file: string, env: Env = process.env): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new GatewayError('TG_ERR_CONFIG_UNREADABLE', `cannot read config file ${file}`, { cause });
  }
  return parseConfigText(text, file, env);
}

/** Parses config text; admin edits and reloads go through here too. Throws TG_ERR_CONFIG_INVALID. */
export function parseConfigText(text: string, source: string, env: Env = process.env): GatewayConfig {
  const problems: ConfigProblem[] = [];
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  for (const error of doc.errors) {
    const where = error.linePos?.[0] ? `line ${error.linePos[0].line}` : '(yaml)';
    problems.push({ path: where, message: error.message.split('\n')[0] ?? error.message });
  }
  if (problems.length > 0) throw invalid(source, problems);

  const expansions: Expansion[] = [];
  const raw = substituteEnv(doc.toJS() ?? {}, env, problems, expansions) as Record<string, unknown>;
  const envPaths = new Set(problems.map((p) => p.path));
  // Weak secrets are reported with the schema's problems (not after them), so every one shows at once.
  const secretProblems = checkSecrets(raw).filter((p) => !envPaths.has(p.path));
  problems.push(...secretProblems);
  const reported = new Set([...envPaths, ...secretProblems.map((p) => p.path)]);
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = formatPath(issue.path);
      // A missing variable or weak secret was already reported; the schema would say it again.
      if (reported.has(path)) continue;
      if (issue.code === 'unrecognized_keys') {
        // One problem per unknown key, at the key's own path (routes[0].upstreem), so a typo is easy to find.
        for (const key of issue.keys) problems.push({ path: formatPath([...issue.path, key]), message: 'unknown key' });
      } else {
        problems.push({ path, message: issue.message });
      }
    }
  } else {
    problems.push(...crossCheckConfig(result.data));
  }
  // A message may quote a value (a bad duration, a bad address); one the environment supplied stays hidden.
  if (problems.length > 0 || !result.success) throw invalid(source, problems.map((p) => ({ path: p.path, message: redactExpansions(p.message, expansions) })));
  return deepFreeze(result.data);
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(root)';
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`)).join('');
}

function invalid(source: string, problems: ConfigProblem[]): GatewayError {
  const lines = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
  return new GatewayError('TG_ERR_CONFIG_INVALID', `${source}: ${problems.length} problem(s)\n${lines}`, {
    details: { problems },
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
