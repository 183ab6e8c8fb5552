// Human descriptions of expectations and durations, for the "expected …" part of every explanation.
import type { PlainExpectation } from './expectation-schema.ts';
import { formatDuration } from '../../../config/format-duration.ts';

export interface DescribeFacts {
  email: string;
  sub: string;
  /** Values already learned for the column (learned rules only). */
  known: readonly string[];
}

const MAX_LISTED = 8;

/** Lists values for people: empty strings shown as (empty), long lists cut with "+N more". */
export function listValues(values: readonly string[]): string {
  const shown = values.slice(0, MAX_LISTED).map((v) => (v === '' ? '(empty)' : v));
  const more = values.length - shown.length;
  return more > 0 ? `${shown.join(', ')} (+${more} more)` : shown.join(', ');
}

export function describeRule(rule: PlainExpectation, facts: DescribeFacts): string {
  const anyCase = 'ignoreCase' in rule && rule.ignoreCase ? ' (any case)' : '';
  if ('values' in rule) return `${rule.values.length === 1 ? '' : 'one of '}${listValues(rule.values)}${anyCase}`;
  if ('pattern' in rule) return `matching /${rule.pattern}/${rule.ignoreCase ? 'i' : ''}`;
  if ('range' in rule) return describeRange(rule.range.min, rule.range.max);
  if ('recentWithin' in rule) return `a time within the last ${formatDuration(rule.recentWithin)}`;
  if ('equalsUser' in rule) return describeUser(rule.equalsUser, facts);
  if ('learned' in rule) {
    if (facts.known.length > 0) return `a value seen before for this user (${listValues(facts.known)})`;
    return rule.firstSeen === 'match' ? 'first sighting: any value, learned now' : 'first sighting: learned now, unknown until seen again';
  }
  if ('present' in rule) return 'any non-empty value';
  return `all of ${listValues(rule.includesAll)}${anyCase}`;
}

function describeRange(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `a number from ${min} to ${max}`;
  return min !== undefined ? `a number of at least ${min}` : `a number of at most ${String(max)}`;
}

function describeUser(form: 'email' | 'email-local-part' | 'sub', facts: DescribeFacts): string {
  if (form === 'email') return `the user's email (${facts.email})`;
  if (form === 'sub') return `the user's subject (${facts.sub})`;
  return `the user's email local part (${localPart(facts.email)})`;
}

export function localPart(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 0 ? email : email.slice(0, at);
}
