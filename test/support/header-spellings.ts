// Every spelling of a header name a backend could fold into the same name: each separator RFC 9110
// allows in a token (and none at all), mixed separators, and case variants. Shared by the header
// filter's unit test and the header-spoofing integration test.

/** The non-alphanumeric tchar characters of RFC 9110 §5.6.2, and "" (separators dropped). */
export const SEPARATORS = ['-', '_', '.', '~', '', '!', '#', '$', '%', '&', "'", '*', '+', '^', '`', '|'] as const;

export const CASES = {
  asWritten: (name: string) => name,
  lower: (name: string) => name.toLowerCase(),
  upper: (name: string) => name.toUpperCase(),
  alternating: (name: string) => [...name].map((c, i) => (i % 2 === 0 ? c.toLowerCase() : c.toUpperCase())).join(''),
} as const;

/** A concrete name for a protected entry: prefixes ("X-Trustgate-*", "X-Client-Cert*") get a suffix. */
export function concreteName(entry: string): string {
  if (!entry.endsWith('*')) return entry;
  return entry.endsWith('-*') ? `${entry.slice(0, -1)}User` : `${entry.slice(0, -1)}-Chain`;
}

/** `name` written with `separator` between its words ("X-Trustgate-User" → "X.Trustgate.User"). */
export function withSeparator(name: string, separator: string): string {
  return name.split('-').join(separator);
}

/** A few mixed spellings: "x-trustgate_user", "X_Trustgate.User", "x--trustgate__user". */
export function mixedSpellings(name: string): string[] {
  const words = name.split('-');
  if (words.length < 2) return [`${name}_`, `_${name}`];
  const alternate = (a: string, b: string) => words.map((w, i) => (i === 0 ? w : `${i % 2 === 0 ? a : b}${w}`)).join('');
  return [alternate('-', '_'), alternate('_', '.'), alternate('~', '-'), words.join('--'), words.join('__')];
}

/** Every spelling of `name`: each separator × each case, plus the mixed ones. */
export function allSpellings(name: string): string[] {
  const out = new Set<string>();
  for (const separator of SEPARATORS) for (const variant of Object.values(CASES)) out.add(variant(withSeparator(name, separator)));
  for (const mixed of mixedSpellings(name)) for (const variant of Object.values(CASES)) out.add(variant(mixed));
  return [...out];
}
