// Pure helpers over node:crypto X509Certificate: the Fleet host UUID from a device certificate's URI SANs,
// and a direct-issuance check against the configured device CAs.
import { X509Certificate } from 'node:crypto';

export type CertificateCheck = { ok: true } | { ok: false; reason: 'not-yet-valid' | 'expired' | 'untrusted-issuer' };

/**
 * The `uuid` group of the first URI SAN matching `sanPattern`, upper-cased (Fleet stores Apple hardware
 * UUIDs in upper case). The subject CN is never consulted: anyone can put a UUID-looking string there,
 * while the SAN is what the device CA vouches for.
 */
export function uuidFromCertificate(cert: X509Certificate, sanPattern: RegExp): string | undefined {
  for (const entry of parseSubjectAltName(cert.subjectAltName ?? '')) {
    if (entry.type !== 'URI') continue;
    // A global or sticky pattern would carry lastIndex from one call to the next.
    sanPattern.lastIndex = 0;
    const uuid = sanPattern.exec(entry.value)?.groups?.['uuid'];
    if (uuid) return uuid.toUpperCase();
  }
  return undefined;
}

/**
 * Checks the validity window and that one of `cas` issued the certificate directly (metadata match and
 * signature). Chains are not built: device CAs issue leaf certificates directly, so an intermediate that
 * issues device certificates must itself be listed in the CA bundle.
 */
export function verifyDeviceCertificate(cert: X509Certificate, cas: X509Certificate[], nowMs: number): CertificateCheck {
  if (nowMs < cert.validFromDate.getTime()) return { ok: false, reason: 'not-yet-valid' };
  if (nowMs > cert.validToDate.getTime()) return { ok: false, reason: 'expired' };
  // cert.checkIssued(ca) asks "was cert issued by ca?" (names, key identifiers, CA key usage);
  // verify() then proves the signature really came from that CA's key.
  const issued = cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
  return issued ? { ok: true } : { ok: false, reason: 'untrusted-issuer' };
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/** Every certificate in a PEM bundle, in file order; throws if one does not parse or there are none. */
export function loadCaBundle(pem: string): X509Certificate[] {
  const certificates = [...pem.matchAll(PEM_CERTIFICATE)].map((match) => new X509Certificate(match[0]));
  if (certificates.length === 0) throw new Error('CA bundle contains no PEM certificates');
  return certificates;
}

interface AltName {
  type: string;
  value: string;
}

/**
 * Splits Node's subjectAltName text ("DNS:a, URI:b"). Node writes a value containing a comma, quote,
 * backslash or control character as a JSON string (URI:"a\u002cb"), so a crafted SAN cannot smuggle in
 * a second entry; such values are decoded with JSON.parse, and anything malformed ends the parse.
 */
export function parseSubjectAltName(text: string): AltName[] {
  const names: AltName[] = [];
  let position = 0;
  while (position < text.length) {
    const colon = text.indexOf(':', position);
    if (colon === -1) break;
    const type = text.slice(position, colon);
    const value = readAltNameValue(text, colon + 1);
    if (value === undefined) break;
    names.push({ type, value: value.value });
    position = value.end;
    if (text.startsWith(', ', position)) position += 2;
    else break;
  }
  return names;
}

function readAltNameValue(text: string, start: number): { value: string; end: number } | undefined {
  if (text[start] !== '"') {
    const comma = text.indexOf(', ', start);
    const end = comma === -1 ? text.length : comma;
    return { value: text.slice(start, end), end };
  }
  // Find the closing quote, stepping over backslash escapes.
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') {
      try {
        return { value: JSON.parse(text.slice(start, i + 1)) as string, end: i + 1 };
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
