// Turns a request target into the one canonical path that routing decides on and the proxy forwards:
// decode once, resolve "." and "..", collapse "//", re-encode. Input whose meaning a backend might read
// differently is rejected instead of guessed at: encoded "/", "\", NUL, control characters, bad
// percent-encoding, ".." above the root, path parameters (";", which Tomcat/Spring/Jetty strip), segments
// ending in "." or a space (which IIS/Windows drop), characters Unicode normalisation changes (fullwidth
// "／", "．", "Ａ" that NFKC-normalising frameworks fold to ASCII), NTFS stream names and 8.3 short names.
import { GatewayError } from '../errors.ts';

export interface NormalizedTarget {
  /** Decoded, dot-free path used for route matching. */
  path: string;
  /** Canonically re-encoded path + original query: exactly what is forwarded. */
  forwardTarget: string;
  query: string;
}

// Characters a path segment may carry unencoded (RFC 3986 pchar minus '%').
// ";" is never in a forwarded path: it is refused (path parameters).
const SEGMENT_SAFE = /[A-Za-z0-9\-._~!$&'()*+,=:@]/;

// Already canonical: only unreserved/sub-delim path characters (no ";"), no "%", no empty segments and
// no segment ending in "." (so no dot segments either); other segments go through the full checks below.
const CANONICAL = /^(?=\/)(?:\/[A-Za-z0-9\-._~!$&'()*+,=:@]*[A-Za-z0-9\-_~!$&'()*+,=:@])*\/?(?:\?[^%\x00-\x20\x7f]*)?$/;

export function normalizeTarget(rawTarget: string): NormalizedTarget {
  if (CANONICAL.test(rawTarget) && !/~\d|::\$/.test(rawTarget)) {
    // The common case: decoding and re-encoding would give the same text back.
    const queryAt = rawTarget.indexOf('?');
    return queryAt === -1
      ? { path: rawTarget, forwardTarget: rawTarget, query: '' }
      : { path: rawTarget.slice(0, queryAt), forwardTarget: rawTarget, query: rawTarget.slice(queryAt) };
  }
  if (!rawTarget.startsWith('/')) throw bad('the request target must be a path starting with "/"');
  const queryAt = rawTarget.indexOf('?');
  const rawPath = queryAt === -1 ? rawTarget : rawTarget.slice(0, queryAt);
  const query = queryAt === -1 ? '' : rawTarget.slice(queryAt);
  if (/[\x00-\x20\x7f]/.test(rawTarget)) throw bad('control characters or spaces in the request target');
  if (rawPath.includes('\\')) throw bad('backslash in the path');
  if (/%(?![0-9A-Fa-f]{2})/.test(rawTarget)) throw bad('invalid percent-encoding');
  if (/%(2f|5c|00)/i.test(rawPath)) throw bad('encoded "/", "\\" or NUL in the path');

  const segments: string[] = [];
  const parts = rawPath.split('/');
  parts.forEach((rawSegment, index) => {
    const segment = decodeSegment(rawSegment);
    if (/[\x00-\x1f\x7f]/.test(segment)) throw bad('encoded control characters in the path');
    checkSegment(segment);
    if (segment === '' || segment === '.') {
      // "//" collapses and "." disappears; a trailing empty segment keeps the trailing slash.
      if (index === parts.length - 1 && index > 0) segments.push('');
      return;
    }
    if (segment === '..') {
      if (segments.length === 0) throw bad('the path climbs above the root');
      segments.pop();
      if (index === parts.length - 1) segments.push('');
      return;
    }
    segments.push(segment);
  });
  const path = `/${segments.join('/')}`.replace(/\/{2,}/g, '/');
  const encoded = path.split('/').map(encodeSegment).join('/');
  return { path, forwardTarget: `${encoded}${query}`, query };
}

/**
 * Refuses a (decoded) segment that common backends read as a different segment: each of these would let
 * "/admin" be spelled so that routing sees another path than the backend serves.
 */
function checkSegment(segment: string): void {
  // Tomcat/Spring/Jetty strip ";params" from every segment ("/admin;x" is "/admin", "..;/" is "../").
  if (segment.includes(';')) throw bad('";" (path parameters) in the path');
  // IIS and Windows file systems drop trailing dots and spaces ("/admin." and "/admin%20" are "/admin").
  if (segment !== '.' && segment !== '..' && /[. ]$/.test(segment)) throw bad('a path segment ends in "." or a space');
  // Frameworks that NFKC-normalise read fullwidth "／．Ａ", ligatures or "K" (Kelvin) as their ASCII look-alikes.
  // (ASCII never changes under NFKC, so only segments with other characters pay for the normalisation.)
  if (/[^\x00-\x7F]/.test(segment) && segment.normalize('NFKC') !== segment) throw bad('characters that Unicode normalisation would change');
  // NTFS alternate data streams ("admin::$DATA") and 8.3 short names ("ADMINI~1") name another file.
  if (/::\$/.test(segment)) throw bad('an NTFS stream name in the path');
  if (/^[^~]{1,6}~\d+(?:\.|$)/.test(segment)) throw bad('an 8.3 short file name in the path');
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw bad('invalid percent-encoding (not UTF-8)');
  }
}

function encodeSegment(segment: string): string {
  let out = '';
  for (const char of segment) {
    out += SEGMENT_SAFE.test(char) ? char : encodeURIComponent(char);
  }
  return out;
}

function bad(reason: string): GatewayError {
  return new GatewayError('TG_ERR_BAD_PATH', `Bad request path: ${reason}.`, { details: { reason } });
}
