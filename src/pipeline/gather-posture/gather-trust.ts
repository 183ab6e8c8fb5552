// Stage 3b: the trust score. Takes the identified device's (or the user's) latest osquery snapshots from
// the results source — cached for trust.cacheTtl, but a score below the route's threshold is always
// recomputed from fresh results — and scores them with the trust profile (MISSION-NOTES §2).
import { toGatewayError, type GatewayError } from '../../errors.ts';
import type { Runtime } from '../request-context.ts';
import type { RequestFacts } from '../request-facts.ts';
import type { DeviceResult } from '../identify-device/identify-device.ts';
import type { PostureFacts, PostureResult } from './gather-posture.ts';
import type { Session } from '../identify-user/session-cookie.ts';
import type { QuerySnapshot, ResultsSubject } from './results-source.ts';
import type { TrustRuntime } from './create-trust-runtime.ts';
import { loadLearnedFor, rememberLearned, scoreTrust, type TrustScore } from '../decide/trust/score-trust.ts';
import { trustLogEntry, type TrustLogEntry } from '../decide/trust/explain-trust.ts';
import { browserFingerprint } from '../decide/trust/browser-fingerprint.ts';
import { BROWSER_LEARNED_KEY } from '../decide/trust/trust-profile.ts';
import { localPart } from '../decide/trust/describe-expectation.ts';

export type TrustResult =
  | { readonly kind: 'not-required' }
  | {
      readonly kind: 'scored';
      /** The score that counts: the lowest of the user's devices (`match: any` — the highest). */
      readonly score: number;
      readonly details: readonly TrustScore[];
      readonly explanation: TrustLogEntry | undefined;
      readonly subjects: readonly string[];
      readonly source: 'cache' | 'fresh';
      readonly sourceName: string;
    }
  | { readonly kind: 'unavailable'; readonly error: GatewayError };

/** The trust facts for the request: who, which device, and what the posture stage found. */
export interface TrustFacts extends PostureFacts {
  readonly posture: PostureResult;
}

export type TrustDeps = Pick<Runtime, 'trust' | 'log' | 'now' | 'config' | 'posture'>;

export async function gatherTrust(request: Pick<RequestFacts, 'id' | 'headers'>, deps: TrustDeps, facts: TrustFacts): Promise<TrustResult> {
  const { route, session, device, posture } = facts;
  const rule = route.minTrustScore;
  const trust = deps.trust;
  if (!rule || !trust || !session || device.kind === 'not-required') return { kind: 'not-required' };
  try {
    const subjects = await subjectsOf(deps, session, device, posture);
    const scoring = { session, matchAny: route.device?.match === 'any' };
    const first = await scoreSubjects(request, deps, trust, scoring, subjects, false);
    const scored = first.score < rule.min && first.source === 'cache' ? await scoreSubjects(request, deps, trust, scoring, subjects, true) : first;
    // Trust on first use: first sightings (a new browser, a new device's serial) are remembered.
    await Promise.all(scored.details.map((d) => rememberLearned(trust.learned, session.email, d.learn)));
    return { ...scored, kind: 'scored', sourceName: trust.source.name };
  } catch (error) {
    const failure = toGatewayError(error);
    deps.log.warn({ requestId: request.id, code: failure.code, details: failure.details }, 'trust score unavailable');
    return { kind: 'unavailable', error: failure };
  }
}

async function scoreSubjects(request: Pick<RequestFacts, 'headers'>, deps: TrustDeps, trust: TrustRuntime, scoring: { session: Session; matchAny: boolean }, subjects: ResultsSubject[], fresh: boolean) {
  const { session } = scoring;
  const learned = await loadLearnedFor(trust.profile, trust.learned, session.email);
  const browser = { fingerprint: browserFingerprint(request.headers), known: learned.get(BROWSER_LEARNED_KEY) ?? [] };
  const user = { email: session.email, sub: session.sub, groups: session.groups };
  const nowMs = deps.now();
  let fromCache = true;
  const details: TrustScore[] = [];
  for (const subject of subjects.length > 0 ? subjects : [undefined]) {
    const found = subject ? await trust.snapshots(subject, fresh) : { snapshots: new Map<string, QuerySnapshot>(), cached: false };
    fromCache &&= found.cached;
    details.push(scoreTrust({ profile: trust.profile, snapshots: found.snapshots, user, browser, learned, nowMs }));
  }
  const scores = details.map((d) => d.score);
  const score = scoring.matchAny ? Math.max(...scores) : Math.min(...scores);
  const worst = details.find((d) => d.score === score);
  return {
    score,
    details,
    explanation: worst ? trustLogEntry(worst) : undefined,
    subjects: subjects.map((s) => s.hostUuid ?? s.username ?? ''),
    source: fromCache ? ('cache' as const) : ('fresh' as const),
  };
}

/** Whose results to score: the identified device(s) by Fleet host uuid, or the user by username. */
async function subjectsOf(deps: TrustDeps, session: Session, device: DeviceResult, posture: PostureResult): Promise<ResultsSubject[]> {
  if (deps.config.trust?.subject === 'user') return [{ username: localPart(session.email) }];
  if (device.kind === 'certificate') return [{ hostUuid: device.uuid }];
  if (posture.kind === 'evaluated') return posture.verdict.hosts.map((h) => ({ hostUuid: h.host.uuid }));
  if (device.kind !== 'email' || !deps.posture) return [];
  // No device rule on the route: find the user's devices through Fleet's mapping (cached like posture).
  const cache = deps.posture;
  const ids = await cache.hostIdsForEmail(device.email);
  const hosts = await Promise.all(ids.value.map((id) => cache.hostById(id, () => true)));
  return hosts.map((h) => ({ hostUuid: h.value.uuid }));
}
