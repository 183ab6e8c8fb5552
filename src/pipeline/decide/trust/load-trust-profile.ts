// Reads a trust-profile YAML: parse → validate with the schema → freeze, reporting every problem with
// its path at once (same shape as the gateway config loader).
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { GatewayError } from '../../../errors.ts';
import { formatPath, invalidConfig, yamlProblems, type ConfigProblem } from '../../../config/config-problem.ts';
import { deepFreeze } from '../../../config/deep-freeze.ts';
import { EXPECTATION_FORMS } from './expectation-schema.ts';
import { trustProfileSchema, type TrustProfile } from './trust-profile.ts';

export async function loadTrustProfileFile(file: string): Promise<TrustProfile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new GatewayError('TG_ERR_CONFIG_UNREADABLE', `cannot read trust profile ${file}`, { cause });
  }
  return parseTrustProfileText(text, file);
}

/** Throws TG_ERR_CONFIG_INVALID listing every problem ("sections[1].tables[0].columns: … must be 100"). */
export function parseTrustProfileText(text: string, source: string): TrustProfile {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const problems = yamlProblems(doc);
  if (problems.length > 0) throw invalidConfig(source, problems);
  const result = trustProfileSchema.safeParse(doc.toJS() ?? {});
  if (!result.success) throw invalidConfig(source, flattenIssues(result.error.issues, []));
  return deepFreeze(result.data);
}

type Issue = z.core.$ZodIssue;

// zod reports a failed union as one issue holding every branch's issues. For an expectation the
// useful one is the branch the author meant: the one with the fewest issues (it had the right key).
function flattenIssues(issues: readonly Issue[], base: PropertyKey[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: formatPath([...path, key]), message: 'unknown key' });
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      problems.push(...bestBranch(issue.errors, path));
    } else {
      problems.push({ path: formatPath(path), message: issue.message });
    }
  }
  return problems;
}

function bestBranch(branches: readonly (readonly Issue[])[], path: PropertyKey[]): ConfigProblem[] {
  const sizes = branches.map((b) => b.length);
  const fewest = Math.min(...sizes);
  // Every branch failed alike: no form's key was present at all.
  if (sizes.filter((n) => n === fewest).length > 1) {
    return [{ path: formatPath(path), message: `expected one of the forms: ${EXPECTATION_FORMS.join(', ')}, or perUser/perGroup/default` }];
  }
  return flattenIssues(branches[sizes.indexOf(fewest)] ?? [], path);
}
