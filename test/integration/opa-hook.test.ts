// The Open Policy Agent hook through the real gateway: OPA sees the documented input, can veto an
// allow, and its failures follow the route's onError (deny by default: fail closed).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BrowserClient, signIn } from '../support/browser-client.ts';
import { startStack, type Stack } from '../support/start-stack.ts';
import { startFakeOpa, type FakeOpa } from '../support/fake-opa.ts';

describe('OPA hook', () => {
  let stack: Stack;
  let opa: FakeOpa;

  beforeAll(async () => {
    // The policy: admins always; everyone else only on a compliant device and only for GET.
    opa = await startFakeOpa((input) => {
      const user = input.user as { groups: string[] };
      const device = input.device as { compliant: boolean | null };
      const request = input.request as { method: string };
      if (user.groups.includes('trustgate-admins')) return { allow: true };
      if (request.method !== 'GET') return { allow: false, reasons: ['read-only for non-admins'] };
      return { allow: device.compliant === true };
    });
    stack = await startStack({
      fleet: {},
      routes: (upstream) => [
        { name: 'strict', host: '127.0.0.1', pathPrefix: '/strict', upstream, allowAnyAuthenticatedUser: true, device: { requireCritical: true, mode: 'report-only' }, opa: { url: opa.url, path: 'trustgate/decision', timeout: '300ms' } },
        { name: 'lenient', host: '127.0.0.1', pathPrefix: '/lenient', upstream, allowAnyAuthenticatedUser: true, opa: { url: opa.url, timeout: '300ms', onError: 'allow' } },
      ],
    });
  });
  afterAll(async () => {
    await stack.close();
    await opa.close();
  });

  async function signedIn(user: string): Promise<BrowserClient> {
    const client = new BrowserClient();
    await signIn(client, `${stack.url}/strict/`, user);
    return client;
  }

  test('OPA receives user, device with policy results, route, request and the gateway verdict', async () => {
    const alice = await signedIn('alice');
    expect((await alice.request(`${stack.url}/strict/x`)).status).toBe(200);
    expect(opa.paths.at(-1)).toBe('/v1/data/trustgate/decision');
    const input = opa.inputs.at(-1) as Record<string, any>;
    expect(input.user).toEqual({ sub: 'alice', email: 'alice@example.com', groups: ['engineering', 'trustgate-admins'] });
    expect(input.route).toMatchObject({ name: 'strict', pathPrefix: '/strict' });
    expect(input.request).toMatchObject({ method: 'GET', path: '/strict/x' });
    expect(input.device.hosts[0]).toMatchObject({ uuid: '8D2C3A9E-5F41-4B7A-9C21-6E3F0B1D4A57', compliant: true });
    expect(input.device.hosts[0].policies.find((p: { id: number }) => p.id === 1)).toMatchObject({ name: 'Disk encryption enabled', response: 'pass', critical: true });
    expect(input.decision).toEqual({ verdict: 'allow', reasons: ['user-allowed', 'device-compliant'] });
    expect(stack.decisions().at(-1)?.reasons).toContain('opa-allowed');
  });

  test("OPA's deny (with its reasons) turns the gateway's allow into a 403", async () => {
    const bob = await signedIn('bob');
    // Report-only lets bob's failing laptop through locally; OPA says no.
    const denied = await bob.request(`${stack.url}/strict/x`, { headers: { accept: 'application/json' } });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: 'TG_ERR_FORBIDDEN', reasons: ['opa-denied'] });
    const post = await bob.request(`${stack.url}/strict/form`, { method: 'POST', headers: { accept: 'application/json' }, body: 'a=1' });
    expect(post.status).toBe(403);
    expect(stack.decisions().at(-1)).toMatchObject({ verdict: 'deny', reasons: ['opa-denied'], opaReasons: ['read-only for non-admins'] });
  });

  test('an undefined OPA document is a deny', async () => {
    const alice = await signedIn('alice');
    opa.set({ body: '{}' });
    try {
      expect((await alice.request(`${stack.url}/strict/x`)).status).toBe(403);
    } finally {
      opa.set({});
    }
  });

  test('OPA down or slow: fail closed by default (503), or allowed where the route says onError: allow', async () => {
    const alice = await signedIn('alice');
    opa.set({ status: 500 });
    try {
      const closed = await alice.request(`${stack.url}/strict/x`, { headers: { accept: 'application/json' } });
      expect(closed.status).toBe(503);
      expect(await closed.json()).toMatchObject({ error: 'TG_ERR_OPA_UNAVAILABLE', reasons: ['opa-unavailable'] });
      expect((await alice.request(`${stack.url}/lenient/x`)).status).toBe(200);
      expect(stack.decisions().at(-1)?.reasons).toContain('opa-error-allowed');
      opa.set({ delayMs: 1_000 });
      expect((await alice.request(`${stack.url}/strict/x`)).status).toBe(503);
      expect(stack.logs.filter((l) => l.msg === 'OPA unavailable').at(-1)?.details).toMatchObject({ reason: expect.stringMatching(/Timeout/i) });
    } finally {
      opa.set({});
    }
  });
});
