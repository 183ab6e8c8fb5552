// Unit tests of the browser fingerprint: common browsers with and without client hints, GREASE
// brands, missing headers, matching with and without the major version, and the readable form.
import { describe, expect, test } from 'vitest';
import { browserFingerprint, browserMatches, browserParts, describeBrowser } from './browser-fingerprint.ts';
import { CHROME_MAC_HEADERS, FIREFOX_WINDOWS_HEADERS } from './test-fixtures.ts';

describe('browserFingerprint', () => {
  test('Chrome on macOS: family, major, platform hint, brands without GREASE, primary language', () => {
    expect(browserFingerprint(CHROME_MAC_HEADERS)).toBe('chrome/124|macos|chromium,google chrome|en');
  });

  test('GREASE brands change between releases but the fingerprint does not', () => {
    const other = { ...CHROME_MAC_HEADERS, 'sec-ch-ua': '"Google Chrome";v="124", "Not A(Brand";v="8", "Chromium";v="124"' };
    expect(browserFingerprint(other)).toBe(browserFingerprint(CHROME_MAC_HEADERS));
  });

  test('Firefox on Windows sends no client hints: the User-Agent alone', () => {
    expect(browserFingerprint(FIREFOX_WINDOWS_HEADERS)).toBe('firefox/125|windows||de');
  });

  test('Safari, Edge, Chrome on iOS and Android', () => {
    const safari = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15';
    const edge = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51';
    const crios = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1';
    const android = 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36';
    expect(browserFingerprint({ 'user-agent': safari })).toBe('safari/17|macos||');
    expect(browserFingerprint({ 'user-agent': edge })).toBe('edge/124|windows||');
    expect(browserFingerprint({ 'user-agent': crios })).toBe('chrome/124|ios||');
    expect(browserFingerprint({ 'user-agent': android })).toBe('chrome/124|android||');
  });

  test('tolerates missing headers: nothing to go on → null; hints without a User-Agent still count', () => {
    expect(browserFingerprint({})).toBeNull();
    expect(browserFingerprint({ 'accept-language': 'en' })).toBeNull();
    expect(browserFingerprint({ 'sec-ch-ua': '"Chromium";v="124"', 'sec-ch-ua-platform': '"Linux"' })).toBe('other/|linux|chromium|');
    expect(browserFingerprint({ 'user-agent': 'curl/8.5.0' })).toBe('other/|other||');
  });

  test('header arrays are joined; a wildcard language is dropped', () => {
    expect(browserParts({ 'user-agent': ['Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0'], 'accept-language': '*' })).toEqual({
      family: 'firefox',
      major: '125',
      os: 'linux',
      brands: [],
      lang: '',
    });
  });
});

describe('browserMatches', () => {
  const chrome124 = 'chrome/124|macos|chromium,google chrome|en';
  const chrome125 = 'chrome/125|macos|chromium,google chrome|en';

  test('same browser matches; another browser, OS or language does not', () => {
    expect(browserMatches(chrome124, [chrome124], { matchVersion: true })).toBe(true);
    expect(browserMatches('firefox/125|windows||de', [chrome124], { matchVersion: true })).toBe(false);
    expect(browserMatches('chrome/124|windows|chromium,google chrome|en', [chrome124], { matchVersion: true })).toBe(false);
    expect(browserMatches('chrome/124|macos|chromium,google chrome|de', [chrome124], { matchVersion: true })).toBe(false);
  });

  test('an update is a new browser unless matchVersion is off', () => {
    expect(browserMatches(chrome125, [chrome124], { matchVersion: true })).toBe(false);
    expect(browserMatches(chrome125, [chrome124], { matchVersion: false })).toBe(true);
  });

  test('any of the known browsers will do', () => {
    expect(browserMatches(chrome124, ['firefox/125|windows||de', chrome124], { matchVersion: true })).toBe(true);
    expect(browserMatches(chrome124, [], { matchVersion: true })).toBe(false);
  });
});

test('describeBrowser reads like a sentence', () => {
  expect(describeBrowser('chrome/124|macos|chromium,google chrome|en')).toBe('Chrome 124 on macOS (en)');
  expect(describeBrowser('other/|other||')).toBe('Other browser on another OS');
});
