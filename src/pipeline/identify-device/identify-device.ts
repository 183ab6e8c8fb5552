// Stage 2: which device is this request from? In the configured order: a client certificate (mTLS), the
// same certificate forwarded by a trusted front proxy, or the signed-in user's email (Fleet's device
// mapping). See MISSION-NOTES §4: a certificate names one device; an email names all the user's devices.
// A route with `device.identifyBy: certificate` counts only the certificate methods: through the email
// mapping a stolen cookie on any machine would borrow the posture of the user's compliant laptop.
import type { RouteConfig } from '../../config/schema.ts';
import type { Runtime } from '../request-context.ts';
import type { RequestFacts } from '../request-facts.ts';
import type { Session } from '../identify-user/session-cookie.ts';
import { readDeviceCertificate } from './read-device-certificate.ts';

export type DeviceResult =
  | { readonly kind: 'not-required' }
  | { readonly kind: 'certificate'; readonly uuid: string; readonly source: 'mtls' | 'header'; readonly fingerprint: string }
  | { readonly kind: 'email'; readonly email: string }
  | { readonly kind: 'unknown'; readonly problems: readonly string[]; readonly certificateRequired?: true };

/** The device of `session`'s request to `route` (not-required when the route checks no device or nobody is signed in). */
export type DeviceDeps = Pick<Runtime, 'config' | 'deviceIdentity' | 'now'>;

export async function identifyDevice(
  request: Pick<RequestFacts, 'headers' | 'connection' | 'fromTrustedProxy'>,
  deps: DeviceDeps,
  facts: { readonly route: RouteConfig; readonly session: Session | undefined },
): Promise<DeviceResult> {
  const { route, session } = facts;
  if (!(route.device || route.minTrustScore) || !session) return { kind: 'not-required' };
  const { config, deviceIdentity, now } = deps;
  const certificateOnly = route.device?.identifyBy === 'certificate';
  const header = request.headers[config.deviceIdentity.certificateHeader];
  const certificate = readDeviceCertificate({
    socket: request.connection,
    headerValue: Array.isArray(header) ? header[0] : header,
    fromTrustedProxy: request.fromTrustedProxy,
    methods: certificateOnly ? config.deviceIdentity.methods.filter((m) => m !== 'email') : config.deviceIdentity.methods,
    sanPattern: deviceIdentity.sanPattern,
    headerCas: [...deviceIdentity.headerCas],
    nowMs: now(),
  });
  if (certificate.kind === 'certificate') return certificate;
  if (certificateOnly) return { kind: 'unknown', problems: certificate.problems, certificateRequired: true };
  if (config.deviceIdentity.methods.includes('email')) return { kind: 'email', email: session.email };
  return { kind: 'unknown', problems: certificate.problems };
}
