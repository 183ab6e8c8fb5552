// The document OPA receives as `input`: who, which device, what Fleet and the trust score said, which
// route, and the gateway's own verdict. The README documents this shape with an example Rego policy.
import type { RequestFacts } from '../request-facts.ts';
import type { Decision } from './decide.ts';
import type { TrustFacts, TrustResult } from '../gather-posture/gather-trust.ts';

export function opaInput(request: RequestFacts, facts: TrustFacts & { readonly trust: TrustResult }, local: Decision): Record<string, unknown> {
  const { posture, trust, session, route } = facts;
  const hosts = posture.kind === 'evaluated' ? posture.verdict.hosts : [];
  return {
    user: session ? { sub: session.sub, email: session.email, groups: session.groups } : null,
    route: { name: route.name, host: route.host, pathPrefix: route.pathPrefix },
    request: { id: request.id, method: request.method, host: request.host, path: request.target.path, clientAddress: request.clientAddress },
    device: {
      status: posture.kind,
      compliant: posture.kind === 'evaluated' ? posture.verdict.compliant : null,
      hosts: hosts.map((h) => ({
        id: h.host.id,
        uuid: h.host.uuid,
        hostname: h.host.hostname,
        platform: h.host.platform,
        osVersion: h.host.osVersion,
        compliant: h.compliant,
        reasons: h.reasons,
        policies: h.host.policies.map((p) => ({ id: p.id, name: p.name, critical: p.critical, response: p.response })),
      })),
    },
    trust: trust.kind === 'scored' ? { score: trust.score, min: route.minTrustScore?.min ?? null, explanation: trust.explanation } : { status: trust.kind },
    decision: { verdict: local.verdict, reasons: local.reasons },
  };
}
