// Stage 3: what does Fleet say about the device(s)? Looks hosts up through the posture cache, which
// serves only results that pass the route's rule and asks Fleet again for everything else, then
// evaluates them. Fleet failures become `unavailable` here; nothing above sees a Fleet error type.
import { isGatewayError, toGatewayError, type GatewayError } from '../../errors.ts';
import type { DeviceRule, RouteConfig } from '../../config/schema.ts';
import type { Session } from '../identify-user/session-cookie.ts';
import type { Runtime } from '../request-context.ts';
import type { DeviceResult } from '../identify-device/identify-device.ts';
import { combineHosts, evaluateHost, type DevicesVerdict, type HostVerdict } from '../decide/evaluate-posture.ts';
import type { FleetHost } from './fleet-schemas.ts';
import type { PostureCache } from './posture-cache.ts';

export type PostureSource = 'cache' | 'fleet' | 'stale';

export type PostureResult =
  | { readonly kind: 'not-required' }
  | { readonly kind: 'no-device'; readonly problems: readonly string[]; readonly certificateRequired?: true }
  | { readonly kind: 'not-owned'; readonly host: FleetHost }
  | { readonly kind: 'unavailable'; readonly error: GatewayError }
  | { readonly kind: 'evaluated'; readonly verdict: DevicesVerdict; readonly source: PostureSource };

/** What the posture facts need: the route's device rule and, for the owner check, the signed-in user. */
export interface PostureFacts {
  readonly route: RouteConfig;
  readonly session: Session | undefined;
  readonly device: DeviceResult;
}

export type PostureDeps = Pick<Runtime, 'posture' | 'log' | 'now' | 'policyCreatedAt'>;

export async function gatherPosture(requestId: string, deps: PostureDeps, facts: PostureFacts): Promise<PostureResult> {
  const { device } = facts;
  const rule = facts.route.device;
  const cache = deps.posture;
  if (!rule || device.kind === 'not-required') return { kind: 'not-required' };
  if (device.kind === 'unknown') return { kind: 'no-device', problems: device.problems, ...(device.certificateRequired ? { certificateRequired: true } : {}) };
  if (!cache) return { kind: 'unavailable', error: toGatewayError(new Error('route requires a device but no fleet is configured')) };
  try {
    return device.kind === 'certificate' ? await byCertificate(deps, cache, rule, device.uuid, facts.session) : await byEmail(deps, cache, rule, device.email);
  } catch (error) {
    if (isGatewayError(error) && error.code === 'TG_ERR_FLEET_NOT_FOUND') return { kind: 'no-device', problems: ['not enrolled in Fleet'] };
    const failure = toGatewayError(error);
    deps.log.warn({ requestId, code: failure.code, details: failure.details }, 'device posture unavailable');
    return { kind: 'unavailable', error: failure };
  }
}

async function byCertificate(deps: PostureDeps, cache: PostureCache, rule: DeviceRule, uuid: string, session: Session | undefined): Promise<PostureResult> {
  const hosts = createHostEvaluator(deps, cache, rule);
  const found = await cache.hostByIdentifier(uuid, (host) => hosts.evaluateWithKnownPolicyTimes(host).compliant);
  if (rule.requireOwner) {
    const email = session?.email ?? '';
    // A mapping without the user is asked again (not served from cache), like any failing result.
    const emails = await cache.deviceEmails(found.value.id, (list) => list.includes(email));
    if (!emails.value.includes(email)) return { kind: 'not-owned', host: found.value };
  }
  const verdict = await hosts.evaluateLoadingPolicyTimes(found.value);
  return { kind: 'evaluated', verdict: combineHosts([verdict], 'all'), source: found.source };
}

async function byEmail(deps: PostureDeps, cache: PostureCache, rule: DeviceRule, email: string): Promise<PostureResult> {
  const ids = await cache.hostIdsForEmail(email);
  if (ids.value.length === 0) return { kind: 'no-device', problems: [`no device in Fleet is mapped to ${email}`] };
  const hosts = createHostEvaluator(deps, cache, rule);
  const accept = (host: FleetHost): boolean => hosts.evaluateWithKnownPolicyTimes(host).compliant;
  // Most users have one laptop: skip Promise.all's bookkeeping on the hot path.
  const found = ids.value.length === 1 ? [await cache.hostById(ids.value[0] as number, accept)] : await Promise.all(ids.value.map((id) => cache.hostById(id, accept)));
  const verdicts = found.length === 1 ? [await hosts.evaluateLoadingPolicyTimes((found[0] as (typeof found)[number]).value)] : await Promise.all(found.map((f) => hosts.evaluateLoadingPolicyTimes(f.value)));
  return { kind: 'evaluated', verdict: combineHosts(verdicts, rule.match), source: worstSource(found.map((f) => f.source)) };
}

/**
 * Evaluates hosts against the rule. The cache's accept check must be synchronous, so it uses the policy
 * creation times already known; `evaluateLoadingPolicyTimes` loads them first (only the "grace" rule needs them).
 */
function createHostEvaluator(deps: PostureDeps, cache: PostureCache, rule: DeviceRule) {
  const nowMs = deps.now();
  const known = deps.policyCreatedAt;
  // The cache's accept check and the final verdict look at the same host: evaluate it once per request.
  const verdicts = new WeakMap<FleetHost, HostVerdict>();
  const evaluateWithKnownPolicyTimes = (host: FleetHost): HostVerdict => {
    let verdict = verdicts.get(host);
    if (!verdict) {
      verdict = evaluateHost(host, rule, { nowMs, policyCreatedAt: known.get(host.teamId) });
      verdicts.set(host, verdict);
    }
    return verdict;
  };
  return {
    evaluateWithKnownPolicyTimes,
    async evaluateLoadingPolicyTimes(host: FleetHost): Promise<HostVerdict> {
      if (rule.emptyResult !== 'grace' || !host.policies.some((p) => p.response === '')) return evaluateWithKnownPolicyTimes(host);
      const created = await cache.policyCreatedAt(host.teamId);
      known.set(host.teamId, created.value);
      return evaluateHost(host, rule, { nowMs, policyCreatedAt: created.value });
    },
  };
}

function worstSource(sources: PostureSource[]): PostureSource {
  if (sources.includes('stale')) return 'stale';
  return sources.includes('fleet') ? 'fleet' : 'cache';
}
