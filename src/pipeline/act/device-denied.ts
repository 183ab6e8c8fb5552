// The access-denied answer for device problems: which device, which policies fail with Fleet's
// remediation text, how to reach My Device, and the "I fixed it — check again" button. API clients get
// the same facts as JSON (reasons and failing policy ids).
import { sendJson, sendPage, wantsJson } from '../../http/respond.ts';
import { formatPlainText } from '../../http/format-text.ts';
import { requestOrigin, type RequestContext } from '../request-context.ts';
import type { Decision } from '../decide/decide.ts';
import type { HostVerdict } from '../decide/evaluate-posture.ts';
import type { PostureResult } from '../gather-posture/gather-posture.ts';
import { isCoverable } from '../../break-glass/is-coverable.ts';
import type { ErrorCode } from '../../errors.ts';

const DAY_MS = 86_400_000;

export function sendDeviceDenied(ctx: RequestContext, decision: Decision, notice?: string): void {
  const posture = ctx.posture ?? { kind: 'not-required' };
  const unavailable = posture.kind === 'unavailable' || (trustOnly(decision) && decision.reasons.includes('trust-unavailable'));
  const status = unavailable ? 503 : 403;
  const hosts = posture.kind === 'evaluated' ? posture.verdict.hosts : [];
  if (wantsJson(ctx.req.headers.accept)) {
    sendJson(ctx, status, {
      error: deviceErrorCode(unavailable, decision),
      reasons: decision.reasons,
      devices: hosts.map((h) => ({ hostId: h.host.id, hostname: h.host.hostname, compliant: h.compliant, reasons: h.reasons, failingPolicies: h.findings.map((f) => f.id), missingPolicies: h.missing })),
      failingPolicies: [...new Set(hosts.flatMap((h) => h.findings.map((f) => f.id)))],
    });
    return;
  }
  const { config, csrf } = ctx.runtime;
  const returnTo = `${requestOrigin(ctx)}${ctx.target?.forwardTarget ?? '/'}`;
  const text = trustOnly(decision) ? trustHeadline(decision) : headline(posture);
  sendPage(ctx, status, 'access-denied-device', {
    title: text.heading,
    status,
    heading: text.heading,
    intro: text.intro,
    notice: notice ?? null,
    devices: hosts.map((h) => deviceView(h, ctx.runtime.now())),
    showMyDevice: hosts.some((h) => !h.compliant) || posture.kind === 'no-device',
    myDeviceUrl: config.fleet?.myDeviceUrl ?? null,
    helpUrl: config.fleet?.helpUrl ?? null,
    recheck: hosts.length > 0 && ctx.session ? { returnTo, csrf: csrf.token(ctx.session) } : null,
    breakGlassUrl: isCoverable(decision, ctx.route?.breakGlass) && ctx.runtime.breakGlass ? `/.trustgate/break-glass?return=${encodeURIComponent(returnTo)}` : null,
  });
}

function deviceErrorCode(unavailable: boolean, decision: Decision): ErrorCode {
  if (unavailable) return 'TG_ERR_POSTURE_UNAVAILABLE';
  return trustOnly(decision) ? 'TG_ERR_TRUST_TOO_LOW' : 'TG_ERR_DEVICE_NOT_COMPLIANT';
}

/** The device passed Fleet's checks (or none were asked) and only the trust score stands in the way. */
function trustOnly(decision: Decision): boolean {
  return decision.reasons.every((r) => r === 'trust-below-threshold' || r === 'trust-unavailable');
}

// The user learns that the trust check failed and what generally helps, never the scoring details
// (those go to the decision log and the admins).
function trustHeadline(decision: Decision): { heading: string; intro: string } {
  if (decision.reasons.includes('trust-unavailable')) {
    return { heading: 'We could not check your device', intro: "The device trust check is not answering right now, so access is paused for safety. Try again in a minute." };
  }
  return {
    heading: 'Your device did not pass the trust check',
    intro: 'This application asks for a higher device trust level than your device shows right now. Use your usual company device and browser, keep it up to date, and make sure Fleet Desktop is running. If this keeps happening, contact IT with the request id below.',
  };
}

function headline(posture: PostureResult): { heading: string; intro: string } {
  switch (posture.kind) {
    case 'unavailable':
      return { heading: 'We could not check your device', intro: 'The device check is not answering right now, so access is paused for safety. Try again in a minute.' };
    case 'no-device':
      if (posture.certificateRequired) {
        return {
          heading: "This application needs your company device's certificate",
          intro: 'Being signed in is not enough here: this application only opens on a company device that presents its device certificate. Open it from your company laptop and let the browser send the certificate when asked. If you are on your company laptop, contact IT with the request id below.',
        };
      }
      return { heading: 'We could not tell which device you are on', intro: 'This application is only open from company devices managed by Fleet. Use your company laptop, or ask IT to enroll this device.' };
    case 'not-owned':
      return { heading: 'This device is not registered to you', intro: `This application can only be opened from your own company device. This one (${posture.host.hostname}) belongs to someone else in Fleet.` };
    case 'evaluated':
    case 'not-required':
      return { heading: 'Your device needs attention', intro: 'You are signed in, but the device you are using does not meet the security requirements of this application yet.' };
  }
}

function deviceView(verdict: HostVerdict, nowMs: number) {
  const { host } = verdict;
  const seen = host.seenTime ? ageText(nowMs - host.seenTime.getTime()) : 'never';
  return {
    name: host.displayName || host.hostname,
    compliant: verdict.compliant,
    details: [host.osVersion, host.hardwareSerial && `serial ${host.hardwareSerial}`, `last seen by Fleet ${seen}`].filter(Boolean).join(' · '),
    stale: verdict.stale ? `Fleet has not heard from this device since ${seen}. Turn it on, connect it to the internet and make sure Fleet Desktop is running.` : null,
    findings: verdict.findings.map((f) => ({ ...f, resolutionHtml: f.resolution ? formatPlainText(f.resolution) : '' })),
    missing: verdict.missing.map(String),
  };
}

function ageText(ms: number): string {
  if (ms < 120_000) return 'just now';
  if (ms < 2 * 3600_000) return `${Math.round(ms / 60_000)} minutes ago`;
  if (ms < 2 * DAY_MS) return `${Math.round(ms / 3600_000)} hours ago`;
  return `${Math.round(ms / DAY_MS)} days ago`;
}
