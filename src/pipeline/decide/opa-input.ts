// The document OPA receives as `input`: who, which device, what Fleet and the trust score said, which
// route, and the gateway's own verdict. The README documents this shape with an example Rego policy.
import type { RequestContext } from '../request-context.ts';
import type { Decision } from './decide.ts';

export function opaInput(ctx: RequestContext, local: Decision): Record<string, unknown> {
  const posture = ctx.posture;
  const trust = ctx.trust;
  const hosts = posture?.kind === 'evaluated' ? posture.verdict.hosts : [];
  return {
    user: ctx.session ? { sub: ctx.session.sub, email: ctx.session.email, groups: ctx.session.groups } : null,
    route: ctx.route ? { name: ctx.route.name, host: ctx.route.host, pathPrefix: ctx.route.pathPrefix } : null,
    request: { id: ctx.id, method: ctx.req.method, host: ctx.host, path: ctx.target?.path, clientAddress: ctx.clientAddress },
    device: {
      status: posture?.kind ?? 'not-required',
      compliant: posture?.kind === 'evaluated' ? posture.verdict.compliant : null,
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
    trust: trust?.kind === 'scored' ? { score: trust.score, min: ctx.route?.minTrustScore?.min ?? null, explanation: trust.explanation } : { status: trust?.kind ?? 'not-required' },
    decision: { verdict: local.verdict, reasons: local.reasons },
  };
}
