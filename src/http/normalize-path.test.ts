// Unit tests of normalizeTarget: the one canonical path routing decides on and the proxy forwards.
import { describe, expect, test } from 'vitest';
import { GatewayError } from '../errors.ts';
import { normalizeTarget } from './normalize-path.ts';

function rejection(target: string): GatewayError | undefined {
  try {
    normalizeTarget(target);
    return undefined;
  } catch (error) {
    return error as GatewayError;
  }
}

describe('normalizeTarget', () => {
  test('resolves "." and ".." segments', () => {
    expect(normalizeTarget('/a/./b/../c')).toEqual({ path: '/a/c', forwardTarget: '/a/c', query: '' });
    expect(normalizeTarget('/a/b/..').path).toBe('/a/');
    expect(normalizeTarget('/a/..').path).toBe('/');
    expect(normalizeTarget('/.trustgate/../x').path).toBe('/x');
  });

  test('collapses repeated slashes and keeps a trailing slash', () => {
    expect(normalizeTarget('//a//b///c')).toMatchObject({ path: '/a/b/c', forwardTarget: '/a/b/c' });
    expect(normalizeTarget('/a/b/')).toMatchObject({ path: '/a/b/', forwardTarget: '/a/b/' });
    expect(normalizeTarget('/a//b//')).toMatchObject({ path: '/a/b/', forwardTarget: '/a/b/' });
    expect(normalizeTarget('/')).toMatchObject({ path: '/', forwardTarget: '/' });
  });

  test('decodes once, so encoded dots are resolved like plain ones', () => {
    expect(normalizeTarget('/a/%2e%2e/b')).toMatchObject({ path: '/b', forwardTarget: '/b' });
    expect(normalizeTarget('/a/%2E%2E/b')).toMatchObject({ path: '/b', forwardTarget: '/b' });
    expect(normalizeTarget('/a/.%2e/b').path).toBe('/b');
    expect(normalizeTarget('/a/%2e/b').path).toBe('/a/b');
  });

  test('does not decode twice: "%252e%252e" is a literal "%2e%2e" segment and stays encoded', () => {
    const result = normalizeTarget('/a/%252e%252e/b');
    expect(result.path).toBe('/a/%2e%2e/b');
    expect(result.forwardTarget).toBe('/a/%252e%252e/b');
  });

  test('decodes UTF-8 for matching and re-encodes it for forwarding', () => {
    expect(normalizeTarget('/caf%C3%A9')).toMatchObject({ path: '/café', forwardTarget: '/caf%C3%A9' });
    expect(normalizeTarget('/caf%c3%a9')).toMatchObject({ path: '/café', forwardTarget: '/caf%C3%A9' });
    // Unreserved characters that arrive encoded are forwarded plain; the decision saw the same text.
    expect(normalizeTarget('/%7euser')).toMatchObject({ path: '/~user', forwardTarget: '/~user' });
    expect(normalizeTarget('/a%20b')).toMatchObject({ path: '/a b', forwardTarget: '/a%20b' });
  });

  test('keeps the query verbatim, even when it holds what the path may not', () => {
    const result = normalizeTarget('/a/../b?x=%2F&y=a//b&z=..%5C');
    expect(result).toEqual({ path: '/b', forwardTarget: '/b?x=%2F&y=a//b&z=..%5C', query: '?x=%2F&y=a//b&z=..%5C' });
    expect(normalizeTarget('/b?').query).toBe('?');
  });

  test.each([
    ['encoded slash', '/a%2Fb'],
    ['encoded slash, lower case', '/a%2fb'],
    ['encoded backslash', '/a%5Cb'],
    ['encoded backslash, lower case', '/a/%5c../b'],
    ['backslash', '/a\\b'],
    ['backslash dot-dot', '/a\\..\\b'],
    ['encoded NUL', '/a%00b'],
    ['invalid percent-encoding', '/a%zz'],
    ['percent sign at the end', '/a%'],
    ['truncated percent-encoding', '/a%2'],
    ['truncated UTF-8 sequence', '/%E0%A4%A'],
    ['UTF-8 sequence missing a byte', '/%E0%A4'],
    ['lone continuation byte', '/%A4'],
    ['overlong UTF-8 for "."', '/%C0%AE%C0%AE/x'],
    ['dot-dot above the root', '/..'],
    ['dot-dot above the root, deeper', '/a/../../b'],
    ['encoded dot-dot above the root', '/%2e%2e/etc/passwd'],
    ['raw control character', '/a\x01b'],
    ['raw DEL', '/a\x7fb'],
    ['raw space', '/a b'],
    ['raw tab', '/a\tb'],
    ['raw newline', '/a\nb'],
    ['encoded control character', '/a%01b'],
    ['encoded CR LF', '/a%0d%0aSet-Cookie:x'],
    ['encoded DEL', '/a%7F'],
    ['absolute-form target', 'http://evil/'],
    ['asterisk-form target', '*'],
    ['authority-form target', 'evil.example:443'],
    ['empty target', ''],
    ['relative target', 'a/b'],
    ['Tomcat path parameter on dot-dot', '/public/..;/secret'],
    ['encoded path parameter on dot-dot', '/public/%2e%2e;x/secret'],
    ['path parameter on a single dot', '/a/.;x/b'],
    // Path parameters anywhere (Tomcat, Jetty, Spring strip ";…" from each segment).
    ['path parameter after a public segment', '/public;x/../admin'],
    ['session id path parameter', '/admin;jsessionid=1'],
    ['path parameter inside a prefix segment', '/adm;x/in'],
    ['empty path parameter', '/admin;'],
    ['path parameter on the last segment of a deeper path', '/app/x;y'],
    ['encoded path parameter', '/admin%3Bx'],
    ['encoded path parameter, lower case', '/admin%3bx'],
    ['encoded path parameter on dot-dot, lower case', '/public/..%3b/admin'],
    ['path parameter on the root segment', '/;x/admin'],
    // Trailing dots and spaces (IIS and Windows drop them).
    ['trailing dot', '/admin.'],
    ['trailing dots', '/admin..'],
    ['trailing dot before a slash', '/admin./x'],
    ['encoded trailing dot', '/admin%2e'],
    ['encoded trailing dot, upper case', '/admin%2E/x'],
    ['three dots', '/.../admin'],
    ['encoded trailing space', '/admin%20'],
    ['encoded trailing space before a slash', '/admin%20/x'],
    ['encoded trailing tab', '/admin%09'],
    ['dot then space', '/admin.%20'],
    ['space then dot', '/admin%20.'],
    ['trailing dot in the fast path', '/a/b./c'],
    // Unicode look-alikes that NFKC-normalising frameworks fold to ASCII.
    ['fullwidth slash', '/public%EF%BC%8Fadmin'],
    ['fullwidth dots', '/public/%EF%BC%8E%EF%BC%8E/admin'],
    ['fullwidth letters', '/%EF%BC%A1%EF%BC%A4%EF%BC%AD%EF%BC%A9%EF%BC%AE'],
    ['Kelvin sign', '/%E2%84%AAey'],
    ['ligature', '/%EF%AC%81le'],
    ['non-breaking space at the end', '/admin%C2%A0'],
    ['decomposed accent (not NFC)', '/cafe%CC%81'],
    ['overlong UTF-8 for "/"', '/public%C0%AFadmin'],
    ['overlong UTF-8 for "a"', '/%C1%A1dmin'],
    ['IIS %u encoding', '/%u0061dmin'],
    // Windows file-name aliases.
    ['NTFS stream name', '/admin::$DATA'],
    ['encoded NTFS stream name', '/admin::%24DATA'],
    ['8.3 short name', '/ADMINI~1'],
    ['8.3 short name with extension', '/app/SECRET~1.TXT'],
  ])('rejects %s with TG_ERR_BAD_PATH', (_name, target) => {
    const error = rejection(target);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error?.code).toBe('TG_ERR_BAD_PATH');
    expect(error?.status).toBe(400);
  });

  test('";" and trailing dots are fine in the query, and a dot inside a segment is fine in the path', () => {
    expect(normalizeTarget('/a?x=1;y=2.')).toMatchObject({ path: '/a', forwardTarget: '/a?x=1;y=2.' });
    expect(normalizeTarget('/a/file.txt')).toMatchObject({ path: '/a/file.txt', forwardTarget: '/a/file.txt' });
    expect(normalizeTarget('/a/.well-known/x')).toMatchObject({ path: '/a/.well-known/x' });
    expect(normalizeTarget('/%7Euser/~1x')).toMatchObject({ path: '/~user/~1x' });
  });

  test('the reason says what was refused', () => {
    expect(rejection('/admin;x')?.details).toEqual({ reason: '";" (path parameters) in the path' });
    expect(rejection('/admin%2e')?.details).toEqual({ reason: 'a path segment ends in "." or a space' });
  });

  test('an invalid percent-encoding in the query is refused too', () => {
    expect(rejection('/a?x=%zz')?.code).toBe('TG_ERR_BAD_PATH');
  });
});
