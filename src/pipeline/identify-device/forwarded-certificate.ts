// Decodes the client certificate a TLS-terminating front proxy forwards in a header, whichever of the
// common encodings it uses. Header values are attacker-shaped input: this never throws.
import { X509Certificate } from 'node:crypto';

/** Far above any device certificate (a few KiB as URL-encoded PEM); larger values are refused unread. */
export const MAX_CERTIFICATE_HEADER_BYTES = 16 * 1024;

const PEM_BODY = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Accepts URL-encoded PEM (nginx $ssl_client_escaped_cert; AWS ALB X-Amzn-Mtls-Clientcert, which leaves
 * "+" and "=" unescaped, so "+" is never read as a space), PEM whose newlines became spaces or tabs,
 * and bare base64 DER (optionally URL-encoded). When several certificates are sent, the first — the
 * leaf, by every proxy's convention — is returned.
 */
export function certificateFromHeader(value: string): X509Certificate | undefined {
  if (value.length === 0 || value.length > MAX_CERTIFICATE_HEADER_BYTES) return undefined;
  const text = urlDecode(value.trim());
  if (text === undefined) return undefined;
  const pem = PEM_BODY.exec(text);
  const base64 = (pem ? (pem[1] ?? '') : text).replace(/\s+/g, '');
  if (!BASE64.test(base64)) return undefined;
  try {
    return new X509Certificate(Buffer.from(base64, 'base64'));
  } catch {
    return undefined;
  }
}

function urlDecode(text: string): string | undefined {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
