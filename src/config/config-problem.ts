// One problem found in a config (or trust-profile) file, at its path, and the error that reports them all
// at once. A leaf: the loader and every check it runs import it, so none of them imports the loader.
import type { Document } from 'yaml';
import { GatewayError } from '../errors.ts';

export interface ConfigProblem {
  path: string;
  message: string;
}

/** zod's issue path as the file's reader writes it: `routes[0].device.requirePolicies`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(root)';
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`)).join('');
}

/** The YAML parser's own errors (bad indentation, duplicate keys), each at its line. */
export function yamlProblems(doc: Document): ConfigProblem[] {
  return doc.errors.map((error) => ({
    path: error.linePos?.[0] ? `line ${error.linePos[0].line}` : '(yaml)',
    message: error.message.split('\n')[0] ?? error.message,
  }));
}

/** TG_ERR_CONFIG_INVALID listing every problem, one per line, with the problems as details. */
export function invalidConfig(source: string, problems: ConfigProblem[]): GatewayError {
  const lines = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
  return new GatewayError('TG_ERR_CONFIG_INVALID', `${source}: ${problems.length} problem(s)\n${lines}`, {
    details: { problems },
  });
}
