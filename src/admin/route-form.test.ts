// The route form's round trip (defaults stay out of the file, keys the form does not show are kept),
// where the loader's problems land on the form, and the replay of recent decisions against new rules.
import { describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { parseConfigText } from '../config/load-config.ts';
import type { RouteConfig } from '../config/schema.ts';
import type { JournalEntry } from './decision-journal.ts';
import { fieldOfPath } from './problem-fields.ts';
import { EMPTY_FORM, formFromRoute, keptKeys, readRouteForm, routeFormEntries, routeFromForm } from './route-form.ts';
import { routeImpact } from './route-impact.ts';
import type { FleetPolicySummary } from '../pipeline/gather-posture/fleet-schemas.ts';

const WIKI = {
  name: 'wiki',
  host: 'wiki.example.com',
  upstream: 'http://127.0.0.1:3000',
  allowedGroups: ['engineering'],
  timeout: '10s',
  device: { match: 'any', requirePolicies: ['Screen lock enabled', 1], mode: 'enforce' },
};

describe('route form', () => {
  test('an untouched form writes the route back unchanged, and keeps what it does not show', () => {
    const form = formFromRoute(WIKI);
    expect(routeFromForm(form, WIKI)).toEqual(WIKI);
    expect(keptKeys(WIKI)).toEqual(['timeout', 'device.match']);
  });

  test('the form survives hidden fields (preview → save) and empty fields stay out of the file', () => {
    const params = new URLSearchParams(routeFormEntries({ ...formFromRoute(WIKI), mode: '', allowedEmails: 'a@example.com,\n b@example.com' }));
    const back = readRouteForm(params);
    const route = routeFromForm(back, WIKI);
    expect(route.device).toEqual({ match: 'any', requirePolicies: ['Screen lock enabled', 1] });
    expect(route.allowedEmails).toEqual(['a@example.com', 'b@example.com']);
    expect(route).not.toHaveProperty('pathPrefix');
  });

  test('a new route from a sparse form has only what was filled in; numbers become numbers', () => {
    const form = { ...EMPTY_FORM, name: 'new', host: 'n.example.com', upstream: 'http://x:1', allowAnyAuthenticatedUser: true, trust: true, trustMin: '70', breakGlassAllowed: true, breakGlassDurations: '15m, 3600' };
    expect(routeFromForm(form, undefined)).toEqual({
      name: 'new',
      host: 'n.example.com',
      upstream: 'http://x:1',
      allowAnyAuthenticatedUser: true,
      minTrustScore: { min: 70 },
      breakGlass: { allowed: true, durations: ['15m', 3600] },
    });
  });

  test('deniedMessage: shown in the form, written back as typed, left out when empty, validated beside its field', () => {
    const withMessage = { ...WIKI, deniedMessage: 'Ask #it-help for access to the wiki.' };
    const form = formFromRoute(withMessage);
    expect(form.deniedMessage).toBe('Ask #it-help for access to the wiki.');
    expect(keptKeys(withMessage)).toEqual(['timeout', 'device.match']);
    const back = readRouteForm(new URLSearchParams(routeFormEntries({ ...form, deniedMessage: '  Write to access@example.com  ' })));
    expect(routeFromForm(back, withMessage).deniedMessage).toBe('Write to access@example.com');
    expect(routeFromForm({ ...form, deniedMessage: '' }, withMessage)).not.toHaveProperty('deniedMessage');
    expect(fieldOfPath('routes[3].deniedMessage', 3)).toBe('deniedMessage');
    expect(() => routeWith({ deniedMessage: 'x'.repeat(501) })).toThrow();
  });

  test('problem paths map to form fields', () => {
    expect(fieldOfPath('routes[3].upstream', 3)).toBe('upstream');
    expect(fieldOfPath('routes[3].device.warnUntil', 3)).toBe('warnUntil');
    expect(fieldOfPath('routes[3].allowedEmails[1]', 3)).toBe('allowedEmails');
    expect(fieldOfPath('routes[3].breakGlass.durations[0]', 3)).toBe('breakGlassDurations');
    expect(fieldOfPath('routes[3].minTrustScore.min', 3)).toBe('trustMin');
    expect(fieldOfPath('routes[3].device', 3)).toBe('device');
    expect(fieldOfPath('routes[3].timeout', 3)).toBeUndefined();
    expect(fieldOfPath('routes[30].upstream', 3)).toBeUndefined();
  });
});

function routeWith(extra: Record<string, unknown>): RouteConfig {
  const config = parseConfigText(
    stringify({
      listeners: [{ port: 0 }],
      oidc: { issuer: 'http://127.0.0.1:9001', clientId: 'c', clientSecret: 's' },
      session: { secrets: ['0123456789abcdef0123456789abcdef'] },
      fleet: { url: 'http://127.0.0.1:9003', apiToken: 't' },
      trust: { source: { kind: 'result-log', file: '/nonexistent/osquery_result.log' } },
      routes: [{ name: 'app', host: 'a.example.com', upstream: 'http://127.0.0.1:1', allowedGroups: ['engineering'], ...extra }],
    }),
    'test',
    {},
  );
  return config.routes[0] as RouteConfig;
}

function entry(user: string, results: Record<number, string>, extra: Partial<JournalEntry> = {}): JournalEntry {
  return { time: '2026-11-22T10:00:00Z', requestId: user, user, groups: ['engineering'], device: `${user}-mac`, route: 'app', path: '/', verdict: 'allow', reasons: [], trustScore: undefined, trust: undefined, failingPolicies: [], policyResults: results, ...extra };
}

const POLICIES: FleetPolicySummary[] = [
  { id: 1, name: 'Disk encryption enabled', critical: true, passingHostCount: 4, failingHostCount: 1, hostCountUpdatedAt: null, createdAt: null },
  { id: 5, name: 'Endpoint agent running', critical: false, passingHostCount: 3, failingHostCount: 0, hostCountUpdatedAt: null, createdAt: new Date('2026-11-22T09:15:00Z') },
];
const NOW = Date.parse('2026-11-22T10:00:00Z');

describe('impact of new rules on recent users', () => {
  test('failing, missing and pending results deny under enforce; each user counted once (newest)', () => {
    const route = routeWith({ device: { requirePolicies: ['Disk encryption enabled', 5] } });
    const entries = [entry('bob', { 1: 'fail', 5: 'pass' }), entry('carol', { 1: 'pass', 5: '' }), entry('alice', { 1: 'pass', 5: 'pass' }), entry('bob', { 1: 'pass', 5: 'pass' })];
    const impact = routeImpact(route, 'app', entries, POLICIES, NOW);
    expect(impact.users.map((u) => [u.user, u.consequence, u.why])).toEqual([
      ['bob', 'denied', ['fails "Disk encryption enabled"']],
      ['carol', 'denied', ['no result yet for "Endpoint agent running"']],
    ]);
    expect(impact.replayed).toBe(4);
    expect(impact.policies.map((p) => p.policy?.failingHostCount)).toEqual([1, 0]);
  });

  test('grace for a new policy, report-only, groups and trust scores', () => {
    const carol = entry('carol', { 1: 'pass', 5: '' });
    expect(routeImpact(routeWith({ device: { requirePolicies: [5], emptyResult: 'grace', emptyResultGrace: '1h' } }), 'app', [carol], POLICIES, NOW).users).toEqual([]);
    const reported = routeImpact(routeWith({ device: { requirePolicies: [1], mode: 'report-only' } }), 'app', [entry('bob', { 1: 'fail' })], POLICIES, NOW);
    expect(reported.users[0]?.consequence).toBe('reported');
    const sales = routeImpact(routeWith({ allowedGroups: ['sales'] }), 'app', [entry('bob', {})], POLICIES, NOW);
    expect(sales.users[0]?.why[0]).toContain('not in the allowed groups');
    const trust = routeImpact(routeWith({ device: {}, minTrustScore: { min: 70 } }), 'app', [entry('carol', { 1: 'pass' }, { trustScore: 60 })], POLICIES, NOW);
    expect(trust.users[0]?.why).toEqual(['trust score 60 is below 70']);
  });

  test('users never device-checked on the route are "cannot tell", not "allowed"', () => {
    const impact = routeImpact(routeWith({ device: { requirePolicies: [1] } }), 'app', [entry('dave', {})], POLICIES, NOW);
    expect(impact.users).toEqual([]);
    expect(impact.unknown).toEqual([{ user: 'dave', why: 'no device check was recorded for this user on this route' }]);
  });
});
