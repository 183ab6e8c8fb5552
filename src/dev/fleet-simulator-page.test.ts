// Tests the Fleet simulator's control page: it lists the demo hosts and policies (escaped), and its
// form posts set pending results that show on the page and reach the Fleet API after a refetch.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { loadSimulatorData, parseSimulatorData } from './fleet-simulator-data.ts';
import { startFleetSimulator } from './fleet-simulator.ts';
import type { FleetSimulator } from './fleet-simulator.ts';

const TOKEN = 'page-test-token';
const DEMO_DATA = fileURLToPath(new URL('../../config/fleet-simulator.yaml', import.meta.url));
const EVIL = `<script>alert("x")</script> & 'co'`;
const EVIL_ESCAPED = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;';

let simulator: FleetSimulator;

beforeAll(async () => {
  const demo = await loadSimulatorData(DEMO_DATA);
  const data = parseSimulatorData({
    policies: [...demo.policies, { id: 99, name: `Policy ${EVIL}`, query: 'SELECT 1;', team_id: 7 }],
    hosts: [
      ...demo.hosts,
      { id: 99, uuid: 'EVIL-UUID', hostname: `host-${EVIL}`, platform: 'darwin', os_version: 'macOS 15.3', team_id: 7, emails: [{ email: `x${EVIL}@example.com`, source: 'custom' }], policy_results: { 99: 'fail' } },
    ],
  });
  // Long enough that the page is read while the refetch is still pending, even on a loaded machine.
  simulator = await startFleetSimulator({ data, apiToken: TOKEN, refetchDelayMs: 1_000 });
});
afterAll(() => simulator.close());
beforeEach(() => simulator.state.reset());

async function controlPage(path = '/_sim/'): Promise<string> {
  const response = await fetch(`${simulator.url}${path}`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  return response.text();
}

/** The table row for one host's policy on the page. */
function row(html: string, hostId: number, policyId: number): string {
  const match = new RegExp(`<tr data-testid="policy" data-host-id="${hostId}" data-policy-id="${policyId}">[\\s\\S]*?</tr>`).exec(html);
  if (!match) throw new Error(`no row for host ${hostId} policy ${policyId}`);
  return match[0];
}

function cell(rowHtml: string, testId: string): string {
  return new RegExp(`data-testid="${testId}">([^<]*)<`).exec(rowHtml)?.[1] ?? '(missing)';
}

function postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${simulator.url}${path}`, { method: 'POST', body: new URLSearchParams(fields), headers, redirect: 'manual' });
}

async function fleetPolicy(hostId: number, policyId: number): Promise<string | undefined> {
  const response = await fetch(`${simulator.url}/api/v1/fleet/hosts/${hostId}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const body = (await response.json()) as { host: { policies: { id: number; response: string }[] } };
  return body.host.policies.find((policy) => policy.id === policyId)?.response;
}

describe('GET /_sim/', () => {
  test('lists every demo host with its owners, status and policy results', async () => {
    const html = await controlPage();
    expect(html).toContain('<title>Fleet simulator</title>');
    for (const hostname of ['alice-macbook-pro.local', 'bob-macbook-air.local', 'carol-mbp.local', 'dave-macbook.local', 'lab-mac-mini.local']) {
      expect(html).toContain(`<dd data-testid="hostname">${hostname}</dd>`);
    }
    expect(html).toContain('bob@example.com <span class="muted">(custom)</span>');
    expect(html).toMatch(/data-host-id="4"[\s\S]*?data-testid="status">offline</);
    const bobDisk = row(html, 2, 1);
    expect(bobDisk).toContain('Disk encryption enabled <span class="badge">critical</span>');
    expect(cell(bobDisk, 'current-result')).toBe('fail');
    expect(cell(bobDisk, 'pending-result')).toBe('—');
    expect(bobDisk).toContain('action="/_sim/hosts/2/policies/1"');
    expect(bobDisk).toContain('Mark fixed (pending until refetch)');
    expect(cell(row(html, 3, 5), 'current-result')).toBe('no result');
    expect(cell(row(html, 1, 1), 'current-result')).toBe('pass');
  });

  test('escapes host, owner and policy names from the data', async () => {
    const html = await controlPage();
    expect(html).not.toContain('<script>');
    expect(html).toContain(`<dd data-testid="hostname">host-${EVIL_ESCAPED}</dd>`);
    expect(html).toContain(`x${EVIL_ESCAPED}@example.com`);
    expect(row(html, 99, 99)).toContain(`Policy ${EVIL_ESCAPED}`);
  });

  test('answers on /_sim too, with a no-store page that loads nothing from elsewhere', async () => {
    expect(await controlPage('/_sim')).toContain('<h1>Fleet simulator</h1>');
    const response = await fetch(`${simulator.url}/_sim/`);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});

describe('form posts from the page', () => {
  test('"Mark fixed" sets a pending result that the next refetch makes current', async () => {
    const posted = await postForm('/_sim/hosts/2/policies/1', { response: 'pass' });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toBe('/_sim/');

    const pending = row(await controlPage(), 2, 1);
    expect(cell(pending, 'current-result')).toBe('fail');
    expect(cell(pending, 'pending-result')).toBe('pass');
    expect(await fleetPolicy(2, 1)).toBe('fail');

    const refetch = await fetch(`${simulator.url}/api/v1/fleet/hosts/2/refetch`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(refetch.status).toBe(200);
    expect(await controlPage()).toContain('refetch requested');
    await expect.poll(() => fleetPolicy(2, 1), { timeout: 10_000 }).toBe('pass');
    const applied = row(await controlPage(), 2, 1);
    expect(cell(applied, 'current-result')).toBe('pass');
    expect(cell(applied, 'pending-result')).toBe('—');
  });

  test('"Mark failing" and "Clear result" set those pending results', async () => {
    expect((await postForm('/_sim/hosts/1/policies/2', { response: 'fail' })).status).toBe(303);
    expect((await postForm('/_sim/hosts/1/policies/3', { response: '' })).status).toBe(303);
    const html = await controlPage();
    expect(cell(row(html, 1, 2), 'pending-result')).toBe('fail');
    expect(cell(row(html, 1, 3), 'pending-result')).toBe('no result');
    expect(cell(row(html, 1, 3), 'current-result')).toBe('pass');
  });

  test('knob forms set latency, error rate and an outage, and end it again', async () => {
    expect((await postForm('/_sim/knobs', { latencyMs: '250' })).status).toBe(303);
    expect((await postForm('/_sim/knobs', { errorRate: '0.25' })).status).toBe(303);
    expect((await postForm('/_sim/knobs', { outageMode: 'unavailable', outage: 'true' })).status).toBe(303);
    expect(simulator.state.knobs).toMatchObject({ latencyMs: 250, errorRate: 0.25, outage: true, outageMode: 'unavailable' });
    const html = await controlPage();
    expect(html).toContain('<strong data-testid="outage">Fleet is down</strong>');
    expect(html).toContain('name="latencyMs" min="0" max="120000" step="100" value="250"');
    expect(html).toContain('<option value="unavailable" selected>');

    expect((await postForm('/_sim/knobs', { outageMode: 'unavailable', outage: 'false' })).status).toBe(303);
    expect(simulator.state.knobs.outage).toBe(false);
    expect(simulator.state.knobs.latencyMs).toBe(250);
  });

  test('the reset form restores the demo data', async () => {
    await postForm('/_sim/hosts/2/policies/1', { response: 'pass' });
    expect((await postForm('/_sim/reset', {})).status).toBe(303);
    expect(simulator.state.hosts.get(2)?.pending.size).toBe(0);
  });

  test('invalid values are refused with 422 and change nothing', async () => {
    expect((await postForm('/_sim/hosts/2/policies/1', { response: 'maybe' })).status).toBe(422);
    expect((await postForm('/_sim/knobs', { latencyMs: 'soon' })).status).toBe(422);
    expect((await postForm('/_sim/hosts/2/policies/42', { response: 'pass' })).status).toBe(404);
    expect(simulator.state.hosts.get(2)?.pending.size).toBe(0);
    expect(simulator.state.knobs.latencyMs).toBe(0);
  });

  test('a form posted from another site is refused', async () => {
    const posted = await postForm('/_sim/hosts/2/policies/1', { response: 'pass' }, { origin: 'http://evil.example' });
    expect(posted.status).toBe(403);
    expect(simulator.state.hosts.get(2)?.pending.size).toBe(0);
    const sameOrigin = await postForm('/_sim/hosts/2/policies/1', { response: 'pass' }, { origin: simulator.url });
    expect(sameOrigin.status).toBe(303);
  });

  test('the JSON control API still answers JSON', async () => {
    const response = await fetch(`${simulator.url}/_sim/hosts/2/policies/1`, { method: 'POST', body: JSON.stringify({ response: 'pass', immediate: true }) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ applied: true });
    expect(await fleetPolicy(2, 1)).toBe('pass');
  });
});
