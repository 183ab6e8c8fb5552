// Finds the device certificate for a request — from the TLS handshake or a trusted proxy's header — and
// reads the Fleet host UUID from it, noting why each configured method did not yield one.
import type { X509Certificate } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import { uuidFromCertificate, verifyDeviceCertificate } from './device-certificate.ts';
import { certificateFromHeader } from './forwarded-certificate.ts';

export type CertificateIdentity =
  | { kind: 'certificate'; uuid: string; source: 'mtls' | 'header'; fingerprint: string }
  | { kind: 'none'; problems: string[] };

export type DeviceIdentityMethod = 'certificate' | 'header' | 'email';

export interface DeviceCertificateInput {
  /** The request socket; a tls.TLSSocket when the listener is HTTPS. */
  socket: unknown;
  /** The configured certificate header's value, if the request carried one. */
  headerValue: string | undefined;
  /** Whether the socket peer is a configured trusted proxy. */
  fromTrustedProxy: boolean;
  /** Tried in this order; 'email' is the caller's business and skipped here. */
  methods: readonly DeviceIdentityMethod[];
  sanPattern: RegExp;
  /** CAs a forwarded certificate must have been issued by. */
  headerCas: X509Certificate[];
  nowMs: number;
}

type Attempt = { cert: X509Certificate; source: 'mtls' | 'header' } | { problem: string | undefined };

export function readDeviceCertificate(input: DeviceCertificateInput): CertificateIdentity {
  const problems: string[] = [];
  for (const method of input.methods) {
    if (method === 'email') continue;
    const attempt = method === 'certificate' ? fromHandshake(input.socket) : fromHeader(input);
    if ('problem' in attempt) {
      if (attempt.problem !== undefined) problems.push(attempt.problem);
      continue;
    }
    const uuid = uuidFromCertificate(attempt.cert, input.sanPattern);
    if (uuid === undefined) {
      problems.push(`${describe(attempt.source)} has no URI subject alternative name matching deviceIdentity.sanPattern`);
      continue;
    }
    return { kind: 'certificate', uuid, source: attempt.source, fingerprint: attempt.cert.fingerprint256 };
  }
  return { kind: 'none', problems };
}

/**
 * The listener sets `ca` to the device CA with requestCert and rejectUnauthorized: false, so people
 * without a certificate still reach the sign-in page; only a handshake OpenSSL verified counts.
 */
function fromHandshake(socket: unknown): Attempt {
  // A plain-HTTP listener simply has no handshake to read; that is not worth reporting.
  if (!(socket instanceof TLSSocket)) return { problem: undefined };
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return { problem: 'no client certificate presented' };
  if (socket.authorized !== true) {
    return { problem: `client certificate not trusted: ${String(socket.authorizationError ?? 'unknown reason')}` };
  }
  return { cert, source: 'mtls' };
}

/** Checked again against the CA bundle even though the proxy verified it: a misconfigured proxy should not be enough. */
function fromHeader(input: DeviceCertificateInput): Attempt {
  if (input.headerValue === undefined || input.headerValue === '') return { problem: undefined };
  if (!input.fromTrustedProxy) return { problem: 'certificate header ignored: request did not come from a trusted proxy' };
  const cert = certificateFromHeader(input.headerValue);
  if (cert === undefined) return { problem: 'forwarded client certificate could not be decoded' };
  const check = verifyDeviceCertificate(cert, input.headerCas, input.nowMs);
  if (!check.ok) return { problem: `forwarded client certificate rejected: ${check.reason}` };
  return { cert, source: 'header' };
}

function describe(source: 'mtls' | 'header'): string {
  return source === 'mtls' ? 'client certificate' : 'forwarded client certificate';
}
