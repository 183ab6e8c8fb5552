// A stable, readable fingerprint of the requesting browser from its headers (family, major version,
// OS, client-hint brands, primary language), and the comparison with the browsers a user was seen with.

export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface BrowserParts {
  family: string;
  /** Major version, "" when unknown. */
  major: string;
  os: string;
  /** Client-hint brand names, lower-case, sorted, without versions or GREASE entries. */
  brands: readonly string[];
  /** Primary language subtag of Accept-Language ("en" of "en-US"), "" when absent. */
  lang: string;
}

// Order matters: Edge and Opera also say "Chrome/", Chrome also says "Safari/", iOS browsers say "Mac OS X".
const FAMILIES: readonly [string, RegExp][] = [
  ['edge', /\b(?:Edg|EdgA|EdgiOS|Edge)\/(\d+)/],
  ['opera', /\b(?:OPR|OPiOS)\/(\d+)/],
  ['samsung', /\bSamsungBrowser\/(\d+)/],
  ['firefox', /\b(?:Firefox|FxiOS)\/(\d+)/],
  ['chrome', /\b(?:Chrome|CriOS)\/(\d+)/],
  ['safari', /\bVersion\/(\d+)[^ ]* (?:Mobile\/\S+ )?Safari\//],
];
const SYSTEMS: readonly [string, RegExp][] = [
  ['ios', /\b(?:iPhone|iPad|iPod)\b/],
  ['android', /\bAndroid\b/],
  ['chromeos', /\bCrOS\b/],
  ['windows', /\bWindows\b/],
  ['macos', /\b(?:Macintosh|Mac OS X)\b/],
  ['linux', /\bLinux\b/],
];
const CH_PLATFORMS: Readonly<Record<string, string>> = {
  macos: 'macos', windows: 'windows', linux: 'linux', android: 'android', ios: 'ios', 'chrome os': 'chromeos', chromeos: 'chromeos',
};
const FAMILY_NAMES: Readonly<Record<string, string>> = {
  edge: 'Edge', opera: 'Opera', samsung: 'Samsung Internet', firefox: 'Firefox', chrome: 'Chrome', safari: 'Safari', other: 'Other browser',
};
const OS_NAMES: Readonly<Record<string, string>> = {
  ios: 'iOS', android: 'Android', chromeos: 'ChromeOS', windows: 'Windows', macos: 'macOS', linux: 'Linux', other: 'another OS',
};
// Chromium's GREASE brands: "Not-A.Brand", "Not A(Brand", "Not)A;Brand", … — they change between releases.
const GREASE = /^not[^a-z]*a[^a-z]*brand$/i;

function header(headers: RequestHeaders, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value.join(', ') : (value as string | undefined) ?? '').trim();
}

// Only characters that cannot collide with the encoding's separators ("|", "/", ",").
function clean(value: string): string {
  return value.toLowerCase().replace(/[|/,]/g, ' ').replace(/\s+/g, ' ').trim();
}

function parseBrands(value: string): string[] {
  const brands = [...value.matchAll(/"([^"]*)"\s*;\s*v\s*=\s*"[^"]*"/g)].map((m) => m[1] ?? '');
  return [...new Set(brands.filter((b) => b !== '' && !GREASE.test(b)).map(clean))].sort();
}

/** Parts of the fingerprint; null when neither User-Agent nor client hints say anything. */
export function browserParts(headers: RequestHeaders): BrowserParts | null {
  const ua = header(headers, 'user-agent');
  const brands = parseBrands(header(headers, 'sec-ch-ua'));
  const chPlatform = clean(header(headers, 'sec-ch-ua-platform').replace(/"/g, ''));
  if (ua === '' && brands.length === 0) return null;
  const family = FAMILIES.find(([, re]) => re.test(ua));
  const major = family ? (family[1].exec(ua)?.[1] ?? '') : '';
  // The client hint names the platform outright; the UA is the fallback (Firefox and Safari send no hints).
  const os = CH_PLATFORMS[chPlatform] ?? SYSTEMS.find(([, re]) => re.test(ua))?.[0] ?? (chPlatform || 'other');
  const firstLanguage = header(headers, 'accept-language').split(',')[0] ?? '';
  const lang = clean(firstLanguage.split(';')[0]?.split('-')[0] ?? '').replace('*', '');
  return { family: family?.[0] ?? 'other', major, os, brands, lang };
}

/** "chrome/124|macos|chromium,google chrome|en": readable in logs, stable across requests of one browser. */
export function encodeFingerprint(parts: BrowserParts): string {
  return `${parts.family}/${parts.major}|${parts.os}|${parts.brands.join(',')}|${parts.lang}`;
}

export function decodeFingerprint(fingerprint: string): BrowserParts {
  const [browser = '', os = '', brands = '', lang = ''] = fingerprint.split('|');
  const [family = '', major = ''] = browser.split('/');
  return { family, major, os, brands: brands === '' ? [] : brands.split(','), lang };
}

/** The fingerprint of the requesting browser, or null when its headers carry nothing to go on. */
export function browserFingerprint(headers: RequestHeaders): string | null {
  const parts = browserParts(headers);
  return parts === null ? null : encodeFingerprint(parts);
}

export interface BrowserMatchOptions {
  /** Compare the major version too (false: a browser update keeps matching). */
  matchVersion: boolean;
}

/** Whether the fingerprint equals one of the known ones (ignoring the version when asked). */
export function browserMatches(fingerprint: string, known: readonly string[], options: BrowserMatchOptions): boolean {
  const seen = decodeFingerprint(fingerprint);
  return known.some((other) => {
    const k = decodeFingerprint(other);
    return (
      k.family === seen.family &&
      k.os === seen.os &&
      k.lang === seen.lang &&
      k.brands.join(',') === seen.brands.join(',') &&
      (!options.matchVersion || k.major === seen.major)
    );
  });
}

/** "Chrome 124 on macOS (en)" for explanations. */
export function describeBrowser(fingerprint: string): string {
  const p = decodeFingerprint(fingerprint);
  const name = [FAMILY_NAMES[p.family] ?? p.family, p.major].filter((s) => s !== '').join(' ');
  const lang = p.lang === '' ? '' : ` (${p.lang})`;
  return `${name} on ${OS_NAMES[p.os] ?? p.os}${lang}`;
}
