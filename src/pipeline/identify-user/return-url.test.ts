// Unit tests of where a browser may be sent back to: a path on this request's own origin, or an absolute
// http(s) URL on exactly one of the gateway's origins, written plainly. Every open-redirect spelling in
// test/support/open-redirect-forms.ts is refused.
import { describe, expect, test } from 'vitest';
import { openRedirectForms } from '../../../test/support/open-redirect-forms.ts';
import type { ServedOrigins } from '../served-origins.ts';
import { safeReturnUrl } from './return-url.ts';

const PORT = 8123;
const OWN = `http://127.0.0.1:${PORT}`;
const OTHER = 'https://wiki.example.com';

/** The gateway serves OWN (this request's origin) and OTHER: exact scheme, host and port, no credentials. */
function origins(own: string | null = OWN): ServedOrigins {
  const ours = new Set([OWN, OTHER]);
  return { own: own ?? undefined, allows: (url) => url.username === '' && url.password === '' && ours.has(url.origin) };
}

describe('safeReturnUrl', () => {
  test.each(openRedirectForms(PORT))('refuses %j', (candidate) => {
    expect(safeReturnUrl(candidate, origins())).toBeUndefined();
  });

  test.each([undefined, null, ''])('refuses an empty candidate (%j)', (candidate) => {
    expect(safeReturnUrl(candidate, origins())).toBeUndefined();
  });

  test.each([
    ['/deep/link?q=1', `${OWN}/deep/link?q=1`],
    ['/', `${OWN}/`],
    ['/x#frag', `${OWN}/x#frag`],
    [`${OWN}/abs/path`, `${OWN}/abs/path`],
    [`${OTHER}/page`, `${OTHER}/page`],
    [`HTTP://127.0.0.1:${PORT}/x`, `${OWN}/x`],
    // Escapes stay escaped and dot segments resolve: still a path on our origin.
    ['/%2f%2fevil.example', `${OWN}/%2f%2fevil.example`],
    ['/%5cevil.example', `${OWN}/%5cevil.example`],
    ['/%0d%0aSet-Cookie:x=1', `${OWN}/%0d%0aSet-Cookie:x=1`],
    ['/.//evil.example', `${OWN}//evil.example`],
  ])('accepts %j as %s', (candidate, expected) => {
    expect(safeReturnUrl(candidate, origins())).toBe(expected);
  });

  test('a path needs an own origin: under a Host that is not ours, only absolute URLs can pass', () => {
    expect(safeReturnUrl('/deep/link', origins(null))).toBeUndefined();
    expect(safeReturnUrl(`${OTHER}/page`, origins(null))).toBe(`${OTHER}/page`);
  });

  test('the length limit is 4096 characters', () => {
    const path = (length: number) => `/${'a'.repeat(length - 1)}`;
    expect(safeReturnUrl(path(4096), origins())).toBe(`${OWN}${path(4096)}`);
    expect(safeReturnUrl(path(4097), origins())).toBeUndefined();
  });
});
