// Replaces ${NAME} and ${NAME:-default} in config string values with environment variables, so secrets
// (FLEET_API_TOKEN, session secrets) never have to live in the file. Done on parsed values, not on the
// YAML text, so a variable's content can never change the document's structure.
import type { ConfigProblem, Env } from './load-config.ts';

const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function substituteEnv(value: unknown, env: Env, problems: ConfigProblem[], path: string[] = []): unknown {
  if (typeof value === 'string') return substituteString(value, env, problems, path);
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, env, problems, [...path, `[${i}]`]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) out[key] = substituteEnv(child, env, problems, [...path, key]);
    return out;
  }
  return value;
}

function substituteString(value: string, env: Env, problems: ConfigProblem[], path: string[]): string {
  return value.replace(PATTERN, (_match, name: string, fallback: string | undefined) => {
    const found = env[name];
    if (found !== undefined && found !== '') return found;
    if (fallback !== undefined) return fallback;
    problems.push({ path: path.join('.').replace(/\.\[/g, '['), message: `environment variable ${name} is not set` });
    return '';
  });
}
