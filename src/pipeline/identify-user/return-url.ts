// Validates where the user is sent after sign-in: only http(s) URLs on hosts the gateway serves, no
// credentials, no scheme-relative or backslash tricks (the open-redirect forms in OWASP's cheat sheet).

export function safeReturnUrl(candidate: string | undefined | null, base: string, servesHost: (host: string) => boolean): string | undefined {
  if (!candidate || candidate.length > 4096) return undefined;
  // Browsers treat "\" like "/" and drop tabs/newlines, which turns "/\evil.com" into "//evil.com".
  if (/[\\\x00-\x20\x7f]/.test(candidate)) return undefined;
  const relative = candidate.startsWith('/');
  if (relative && candidate.startsWith('//')) return undefined;
  if (!relative && !/^https?:\/\//i.test(candidate)) return undefined;
  let url: URL;
  try {
    url = new URL(candidate, base);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username || url.password) return undefined;
  if (!servesHost(url.host)) return undefined;
  return url.href;
}
