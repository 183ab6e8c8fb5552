// Path-prefix containment on segment boundaries: `/app` holds `/app` and `/app/x`, never `/apple`.
// Route matching and the config's cross-checks both ask it, so it lives in config/, below both.

export function isUnderPrefix(path: string, prefix: string): boolean {
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return path === prefix || path.startsWith(base) || prefix === '/';
}
