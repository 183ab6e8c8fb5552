// Reads a YAML config file: parse → substitute ${ENV} secrets → validate with the schema and the secret
// rule → cross-field checks → freeze. Every problem is collected with its path and reported at once (as oauth2-proxy does).
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { GatewayError } from '../errors.ts';
import { configSchema, type GatewayConfig } from './schema.ts';
import { redactExpansions, substituteEnv, type Env, type Expansion } from './substitute-env.ts';
import { checkSecrets } from './check-secrets.ts';
import { crossCheckConfig } from './cross-check.ts';
import { formatPath, invalidConfig, yamlProblems, type ConfigProblem } from './config-problem.ts';
import { deepFreeze } from './deep-freeze.ts';

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
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const problems: ConfigProblem[] = yamlProblems(doc);
  if (problems.length > 0) throw invalidConfig(source, problems);

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
  if (problems.length > 0 || !result.success) throw invalidConfig(source, problems.map((p) => ({ path: p.path, message: redactExpansions(p.message, expansions) })));
  return deepFreeze(result.data);
}
