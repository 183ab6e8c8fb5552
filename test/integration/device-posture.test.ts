// Device posture end to end: real IdP, real Fleet simulator, real gateway. Compliant users get in (and
// are then served from cache); failing users see their fix and are re-checked against Fleet on every
// request; "check again" refetches; stale devices and empty results follow the route's rules.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BrowserClient, signIn } from '../support/browser-client.ts';
import { startStack, testClock, type Stack } from '../support/start-stack.ts';

const DEVICE_RULE = {
  requireCritical: true,
  requirePolicies: ['Screen lock enabled', 'Endpoint agent running'],
  emptyResult: 'grace',
  emptyResultGrace: '24h',
  maxCheckInAge: '1d',
};

async function signedIn(stack: Stack, user: string): Promise<BrowserClient> {
  const client = new BrowserClient();
  await signIn(client, `${stack.url}/`, user);
  return client;
}

function hostDetailCalls(stack: Stack): number {
  return stack.fleet?.state.stats.requestCount.getHost ?? 0;
}

describe('device posture from Fleet', () => {
  let stack: Stack;
  const clock = testClock();

  beforeAll(async () => {
    stack = await startStack({
      now: clock.now,
      fleet: { refetchDelayMs: 300 },
      posture: { cacheTtl: '5m', recheckWait: '5s' },
      route: { allowedGroups: ['engineering', 'sales'], device: DEVICE_RULE },
    });
  });
  afterAll(() => stack.close());

  test('a compliant device gets in, the upstream learns the device, and the result is then served from cache', async () => {
    const alice = await signedIn(stack, 'alice');
    const first = await alice.request(`${stack.url}/echo/a`, { headers: { accept: 'application/json' } });
    expect(first.status).toBe(200);
    const echo = (await first.json()) as { headers: Record<string, string> };
    expect(echo.headers['x-trustgate-posture']).toBe('compliant');
    expect(echo.headers['x-trustgate-device']).toBe('8D2C3A9E-5F41-4B7A-9C21-6E3F0B1D4A57');
    const calls = hostDetailCalls(stack);
    for (let i = 0; i < 5; i++) expect((await alice.request(`${stack.url}/echo/b`)).status).toBe(200);
    expect(hostDetailCalls(stack)).toBe(calls);
    expect(stack.decisions().at(-1)?.reasons).toEqual(['user-allowed', 'device-compliant']);
  });

  test('a failing device sees the failing policy with its fix; JSON clients get reasons and policy ids', async () => {
    const bob = await signedIn(stack, 'bob');
    const page = await bob.request(`${stack.url}/wiki`);
    expect(page.status).toBe(403);
    const html = await page.text();
    expect(html).toContain('Disk encryption enabled');
    expect(html).toContain('Turn on FileVault');
    expect(html).toContain('<a href="https://support.apple.com/guide/mac-help/protect-data-on-your-mac-with-filevault-mh11785/mac"');
    expect(html).toContain('My device');
    expect(html).toContain('I fixed it — check again');
    expect(html).not.toContain('Screen lock enabled</strong>');

    const json = await bob.request(`${stack.url}/wiki`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(403);
    expect(await json.json()).toMatchObject({ error: 'TG_ERR_DEVICE_NOT_COMPLIANT', reasons: ['policy-failed'], failingPolicies: [1] });
  });

  test('a failing result is never served from cache: every request asks Fleet, and a fix lets the user in at once', async () => {
    const bob = await signedIn(stack, 'bob');
    const before = hostDetailCalls(stack);
    for (let i = 0; i < 3; i++) expect((await bob.request(`${stack.url}/`)).status).toBe(403);
    expect(hostDetailCalls(stack)).toBeGreaterThanOrEqual(before + 3);
    stack.fleet?.state.setPolicyResult(2, 1, 'pass', true);
    expect((await bob.request(`${stack.url}/`)).status).toBe(200);
    // Break it again; the pass stays cached until the TTL runs out, as it should.
    stack.fleet?.state.setPolicyResult(2, 1, 'fail', true);
    expect((await bob.request(`${stack.url}/`)).status).toBe(200);
    clock.advance(6 * 60_000);
    expect((await bob.request(`${stack.url}/`)).status).toBe(403);
  });

  test('"I fixed it — check again" refetches the device, waits for new results and sends the user on', async () => {
    const bob = await signedIn(stack, 'bob');
    const denied = await bob.request(`${stack.url}/docs/page?x=1`);
    const html = await denied.text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const returnTo = /name="return" value="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&') ?? '';
    expect(returnTo).toBe(`${stack.url}/docs/page?x=1`);
    // The user fixes FileVault; Fleet learns it only when the agent re-runs its policies (refetch).
    stack.fleet?.state.setPolicyResult(2, 1, 'pass', false);
    const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, return: returnTo }).toString() };
    const rechecked = await bob.request(`${stack.url}/.trustgate/recheck`, form);
    expect(rechecked.status).toBe(302);
    expect(rechecked.headers.get('location')).toBe(returnTo);
    expect(stack.fleet?.state.stats.requestCount.refetchHost).toBeGreaterThanOrEqual(1);
    expect((await bob.request(returnTo)).status).toBe(200);
    stack.fleet?.state.setPolicyResult(2, 1, 'fail', true);
    clock.advance(6 * 60_000);
  });

  test('the re-check form refuses a missing or foreign CSRF token', async () => {
    const bob = await signedIn(stack, 'bob');
    const body = new URLSearchParams({ csrf: 'forged', return: `${stack.url}/` }).toString();
    const response = await bob.request(`${stack.url}/.trustgate/recheck`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('This form has expired');
  });

  test('an empty result for a new policy is let through within the grace period', async () => {
    const carol = await signedIn(stack, 'carol');
    expect((await carol.request(`${stack.url}/`)).status).toBe(200);
    expect(stack.decisions().at(-1)?.reasons).toContain('device-compliant');
  });

  test('a device not seen for days is stale; checking again explains that it did not report back', async () => {
    const dave = await signedIn(stack, 'dave');
    const denied = await dave.request(`${stack.url}/`);
    expect(denied.status).toBe(403);
    const html = await denied.text();
    expect(html).toContain('Fleet has not heard from this device since 4 days ago');
    expect(stack.decisions().at(-1)?.reasons).toEqual(['device-stale']);
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const body = new URLSearchParams({ csrf, return: `${stack.url}/` }).toString();
    const rechecked = await dave.request(`${stack.url}/.trustgate/recheck`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(rechecked.status).toBe(403);
    expect(await rechecked.text()).toContain('did not report back within 5 seconds');
  });
});

describe('rollout modes and failing dependencies', () => {
  let stack: Stack;
  const clock = testClock();

  beforeAll(async () => {
    stack = await startStack({
      now: clock.now,
      fleet: {},
      session: { idleTimeout: '1d' },
      posture: { cacheTtl: '1m', staleLimit: '10m' },
      routes: (upstream) => [
        { name: 'strict', host: '127.0.0.1', pathPrefix: '/strict', upstream, allowedGroups: ['engineering'], device: { requireCritical: true } },
        { name: 'report', host: '127.0.0.1', pathPrefix: '/report', upstream, allowedGroups: ['engineering'], device: { requireCritical: true, mode: 'report-only' } },
        { name: 'warn', host: '127.0.0.1', pathPrefix: '/warn', upstream, allowedGroups: ['engineering'], device: { requireCritical: true, mode: 'warn', warnUntil: new Date(Date.now() + 3600_000).toISOString() } },
        { name: 'lenient', host: '127.0.0.1', pathPrefix: '/lenient', upstream, allowedGroups: ['engineering'], device: { requireCritical: true, onFleetError: 'allow' } },
        { name: 'anyone', host: '127.0.0.1', pathPrefix: '/', upstream, allowAnyAuthenticatedUser: true, device: {} },
      ],
    });
  });
  afterAll(() => stack.close());

  test('report-only lets a failing device through and logs the would-be denial', async () => {
    const bob = await signedIn(stack, 'bob');
    expect((await bob.request(`${stack.url}/strict`)).status).toBe(403);
    const report = await bob.request(`${stack.url}/report/x`, { headers: { accept: 'application/json' } });
    expect(report.status).toBe(200);
    expect(((await report.json()) as { headers: Record<string, string> }).headers['x-trustgate-posture']).toBe('report-only');
    expect(stack.decisions().at(-1)).toMatchObject({ verdict: 'allow', reasons: ['user-allowed', 'posture-report-only', 'policy-failed'] });
  });

  test('warn shows a notice until the deadline; Continue lets the user through; after the deadline it enforces', async () => {
    const bob = await signedIn(stack, 'bob');
    const notice = await bob.request(`${stack.url}/warn/page`);
    expect(notice.status).toBe(200);
    const html = await notice.text();
    expect(html).toContain('Your device needs attention');
    expect(html).toContain('Disk encryption enabled');
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const body = new URLSearchParams({ csrf, return: `${stack.url}/warn/page` }).toString();
    const ack = await bob.request(`${stack.url}/.trustgate/acknowledge`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(ack.status).toBe(302);
    const through = await bob.request(`${stack.url}/warn/page`, { headers: { accept: 'application/json' } });
    expect(through.status).toBe(200);
    expect(((await through.json()) as { headers: Record<string, string> }).headers['x-trustgate-posture']).toBe('warn');
    expect((await bob.request(`${stack.url}/warn/page`)).status).toBe(200);
    clock.advance(2 * 3600_000);
    expect((await bob.request(`${stack.url}/warn/page`)).status).toBe(403);
  });

  test.each([
    ['/.trustgate/acknowledge', '/WARN/page'],
    ['/.trustgate/acknowledge', '/Warn/page'],
    ['/.trustgate/acknowledge', '/warn.json'],
    ['/.trustgate/recheck', '/STRICT/x'],
    ['/.trustgate/recheck', '/strict.json'],
  ])('%s with the ambiguous return path %s is refused (400, reason), never matched to a looser route', async (form, spelling) => {
    const bob = await signedIn(stack, 'bob');
    const html = await (await bob.request(`${stack.url}/warn/page`)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const body = new URLSearchParams({ csrf, return: `${stack.url}${spelling}` }).toString();
    const answer = await bob.request(`${stack.url}${form}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('location')).toBeNull();
    const json = (await answer.json()) as { reason?: string; requestId?: string };
    expect(json.requestId ?? JSON.stringify(json)).toBeTruthy();
    expect(JSON.stringify(json)).toMatch(/path/i);
  });

  test('a user with no device in Fleet is refused with device-unknown', async () => {
    const erin = await signedIn(stack, 'erin');
    const page = await erin.request(`${stack.url}/`);
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('We could not tell which device you are on');
    expect(stack.decisions().at(-1)?.reasons).toEqual(['device-unknown']);
  });

  test('during a Fleet outage a cached pass is used up to the stale limit, then access fails closed (503)', async () => {
    const alice = await signedIn(stack, 'alice');
    expect((await alice.request(`${stack.url}/strict`)).status).toBe(200);
    stack.fleet?.state.setKnobs({ outage: true });
    try {
      clock.advance(2 * 60_000); // past the TTL, within the stale limit
      expect((await alice.request(`${stack.url}/strict`)).status).toBe(200);
      expect(stack.decisions().at(-1)?.reasons).toContain('posture-stale-result');
      clock.advance(10 * 60_000); // past the stale limit
      const closed = await alice.request(`${stack.url}/strict`);
      expect(closed.status).toBe(503);
      expect(await closed.text()).toContain('We could not check your device');
      expect((await alice.request(`${stack.url}/lenient`)).status).toBe(200);
      expect(stack.decisions().at(-1)?.reasons).toContain('fleet-error-allowed');
    } finally {
      stack.fleet?.state.setKnobs({ outage: false });
    }
  });

  test('a slow Fleet is cut off by the client timeout and answered with a clear 503, not a hang', async () => {
    const bob = await signedIn(stack, 'bob');
    stack.fleet?.state.setKnobs({ latencyMs: 5_000 });
    try {
      const response = await bob.request(`${stack.url}/strict`, { headers: { accept: 'application/json' } });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: 'TG_ERR_POSTURE_UNAVAILABLE', reasons: ['posture-unavailable'] });
      expect(stack.logs.filter((l) => l.msg === 'device posture unavailable').at(-1)?.code).toBe('TG_ERR_FLEET_TIMEOUT');
    } finally {
      stack.fleet?.state.setKnobs({ latencyMs: 0 });
    }
  });
});
