// Replaces ${NAME} and ${NAME:-default} in config string values with environment variables, so secrets
// (FLEET_API_TOKEN, session secrets) never have to live in the file. Done on parsed values, not on the
// YAML text, so a variable's content can never change the document's structure. Done once, when a file
// written by its author is loaded; text an admin typed into the console never contains ${ (refused).
import type { ConfigProblem } from './config-problem.ts';

/** The environment ${NAME} is read from (process.env, or a test's own). */
export type Env = Readonly<Record<string, string | undefined>>;

const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Identifiers shown in logs and on every admin page: written literally, never from the environment. */
const LITERAL_ONLY = [/^routes\[\d+\]\.name$/, /^routes\[\d+\]\.breakGlass\.group$/];

/** One substitution made: the variable and the value it put in (so messages can leave the value out). */
export interface Expansion {
  readonly name: string;
  readonly value: string;
}

export function substituteEnv(value: unknown, env: Env, problems: ConfigProblem[], expansions: Expansion[] = [], path: string[] = []): unknown {
  if (typeof value === 'string') return substituteString(value, env, problems, expansions, path);
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, env, problems, expansions, [...path, `[${i}]`]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) out[key] = substituteEnv(child, env, problems, expansions, [...path, key]);
    return out;
  }
  return value;
}

function substituteString(value: string, env: Env, problems: ConfigProblem[], expansions: Expansion[], path: string[]): string {
  const at = path.join('.').replace(/\.\[/g, '[');
  if (LITERAL_ONLY.some((rule) => rule.test(at)) && new RegExp(PATTERN.source).test(value)) {
    problems.push({ path: at, message: 'write this name literally: ${…} is not substituted here' });
    return value;
  }
  return value.replace(PATTERN, (_match, name: string, fallback: string | undefined) => {
    const found = env[name];
    if (found !== undefined && found !== '') {
      expansions.push({ name, value: found });
      return found;
    }
    if (fallback !== undefined) return fallback;
    problems.push({ path: at, message: `environment variable ${name} is not set` });
    return '';
  });
}

/** `message` with every value the environment supplied replaced by its ${NAME}: a problem never shows one. */
export function redactExpansions(message: string, expansions: readonly Expansion[]): string {
  let out = message;
  // Longest first, so a value containing another is replaced whole.
  for (const { name, value } of [...expansions].sort((a, b) => b.value.length - a.value.length)) {
    if (value.length >= 3) out = out.split(value).join(`\${${name}}`);
  }
  return out;
}
