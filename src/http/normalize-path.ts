// Turns a request target into the one canonical path that routing decides on and the proxy forwards:
// decode once, resolve "." and "..", collapse "//", re-encode. Input whose meaning a backend might read
// differently (encoded "/", "\", NUL, control characters, bad percent-encoding, ".." above the root) is
// rejected instead of guessed at.
import { GatewayError } from '../errors.ts';

export interface NormalizedTarget {
  /** Decoded, dot-free path used for route matching. */
  path: string;
  /** Canonically re-encoded path + original query: exactly what is forwarded. */
  forwardTarget: string;
  query: string;
}

// Characters a path segment may carry unencoded (RFC 3986 pchar minus '%').
const SEGMENT_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=:@]/;

// Already canonical: only unreserved/sub-delim path characters, no "%", no empty or dot segments.
const CANONICAL = /^(?=\/)(?:\/(?!\.\.?(?:[/?;]|$))[A-Za-z0-9\-._~!$&'()*+,;=:@]+)*\/?(?:\?[^%\x00-\x20\x7f]*)?$/;

export function normalizeTarget(rawTarget: string): NormalizedTarget {
  if (CANONICAL.test(rawTarget)) {
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
    // Tomcat/Spring read "..;x" as ".." (path parameters): a backend would resolve what we did not.
    if (/^\.\.?;/.test(segment)) throw bad('path parameters on a dot segment');
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
