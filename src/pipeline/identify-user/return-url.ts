// Validates where the user is sent after sign-in (and by the gateway's forms): a path on this request's own
// origin, or an http(s) URL whose scheme, host and port are exactly one of the gateway's origins — no
// credentials, no scheme-relative or backslash tricks, no escapes, IDN or control characters in it (the
// open-redirect forms in OWASP's cheat sheet).
import { isPlainAuthority, type ServedOrigins } from '../served-origins.ts';

const MAX_RETURN_URL_LENGTH = 4096;

export function safeReturnUrl(candidate: string | undefined | null, origins: ServedOrigins): string | undefined {
  if (!candidate || candidate.length > MAX_RETURN_URL_LENGTH) return undefined;
  // Browsers treat "\" like "/" and drop tabs/newlines, which turns "/\evil.com" into "//evil.com"; on the
  // wire a URL is printable ASCII, so anything else (spaces, controls, Unicode look-alikes) is refused.
  if (/[^\x21-\x7e]|\\/.test(candidate)) return undefined;
  if (candidate.startsWith('/')) {
    if (candidate.startsWith('//') || !origins.own) return undefined;
    return parse(candidate, origins.own, origins)?.href;
  }
  const authority = /^https?:\/\/([^/?#]*)/i.exec(candidate)?.[1];
  if (authority === undefined) return undefined;
  const url = parse(candidate, undefined, origins);
  return url && isPlainAuthority(authority, url) ? url.href : undefined;
}

function parse(candidate: string, base: string | undefined, origins: ServedOrigins): URL | undefined {
  try {
    const url = new URL(candidate, base);
    return origins.allows(url) ? url : undefined;
  } catch {
    return undefined;
  }
}
