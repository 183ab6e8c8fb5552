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
  ])('rejects %s with TG_ERR_BAD_PATH', (_name, target) => {
    const error = rejection(target);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error?.code).toBe('TG_ERR_BAD_PATH');
    expect(error?.status).toBe(400);
  });

  test('an invalid percent-encoding in the query is refused too', () => {
    expect(rejection('/a?x=%zz')?.code).toBe('TG_ERR_BAD_PATH');
  });
});
