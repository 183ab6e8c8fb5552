// Which denials a break-glass grant may open: only a denial every one of whose reasons the route's rule
// covers. Pure, and a leaf (decide uses it), so nothing of the pipeline is imported here.
import type { BreakGlassRule } from '../config/schema.ts';

/** A grant may open a denial only when every reason for it is one the route lets grants cover. */
export function isCoverable(decision: { readonly verdict: string; readonly reasons: readonly string[] }, rule: BreakGlassRule | undefined): boolean {
  if (!rule?.allowed || decision.verdict !== 'deny' || decision.reasons.length === 0) return false;
  return decision.reasons.every((reason) => (rule.covers as readonly string[]).includes(reason));
}
