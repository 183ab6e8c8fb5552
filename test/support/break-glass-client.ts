// Drives the emergency-access pages like a browser would: the deny page's link to the form, the form's
// hidden fields, the POST, and the admins' grants page; the tests assert on what comes back.
import { expect } from 'vitest';
import { BrowserClient, signIn } from './browser-client.ts';
import type { Stack } from './start-stack.ts';

/** The form's duration values are milliseconds. */
export const FIFTEEN_MINUTES = String(15 * 60_000);
export const ONE_HOUR = String(3600_000);
export const GOOD_REASON = 'Prod outage INC-4711: need the runbook on the wiki right now';

export type AuditLine = Record<string, unknown>;

/** The route the break-glass tests protect: engineering only, critical policies, emergency access allowed. */
export const BREAK_GLASS_RULE = { allowed: true, durations: ['15m', '1h'], maxDuration: '1h', requireReasonMinLength: 20, maxGrantsPerUserPerDay: 2 };
export const BREAK_GLASS_ROUTE = { allowedGroups: ['engineering'], device: { requireCritical: true }, breakGlass: BREAK_GLASS_RULE };
/** The key bob's grants are stored under on the default route (Fleet maps his device by email). */
export const BOB = { user: 'bob@example.com', device: 'email:bob@example.com', route: 'app' };

export async function signedIn(stack: Stack, user: string): Promise<BrowserClient> {
  const client = new BrowserClient();
  await signIn(client, `${stack.url}/`, user);
  return client;
}

export function unescapeHtml(text: string): string {
  return text.replace(/&quot;|&#34;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export function hiddenField(html: string, name: string): string | undefined {
  const raw = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
  return raw === undefined ? undefined : unescapeHtml(raw);
}

/** The deny page's "Request emergency access" link, if it has one. */
export function breakGlassLink(html: string): string | undefined {
  const raw = /href="([^"]+)" data-testid="break-glass-link"/.exec(html)?.[1];
  return raw === undefined ? undefined : unescapeHtml(raw);
}

export interface OpenedForm {
  html: string;
  csrf: string;
  returnTo: string;
}

/** Opens the deny page at `path`, follows its link and returns the emergency-access form. */
export async function openForm(client: BrowserClient, stack: Stack, path = '/'): Promise<OpenedForm> {
  const denied = await client.request(`${stack.url}${path}`);
  const link = breakGlassLink(await denied.text());
  if (denied.status !== 403 || !link) throw new Error(`expected a deny page with the emergency link at ${path}, got ${denied.status}`);
  const page = await client.request(new URL(link, stack.url).href);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`expected the emergency-access form, got ${page.status}: ${html.slice(0, 300)}`);
  return { html, csrf: hiddenField(html, 'csrf') ?? '', returnTo: hiddenField(html, 'return') ?? '' };
}

export function postForm(client: BrowserClient, url: string, fields: Record<string, string>): Promise<Response> {
  return client.request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
}

export function postBreakGlass(client: BrowserClient, stack: Stack, fields: Record<string, string>): Promise<Response> {
  return postForm(client, `${stack.url}/.trustgate/break-glass`, fields);
}

/** Opens the form from the deny page at `path` and submits a valid request. */
export async function requestGrant(
  client: BrowserClient,
  stack: Stack,
  options: { path?: string; reason?: string; duration?: string } = {},
): Promise<{ status: number; html: string; grantId: string }> {
  const form = await openForm(client, stack, options.path ?? '/');
  const response = await postBreakGlass(client, stack, {
    csrf: form.csrf,
    return: form.returnTo,
    reason: options.reason ?? GOOD_REASON,
    duration: options.duration ?? FIFTEEN_MINUTES,
    acknowledge: 'yes',
  });
  const html = await response.text();
  return { status: response.status, html, grantId: /Grant <code>([^<]+)<\/code>/.exec(html)?.[1] ?? '' };
}

/** What the echo upstream saw of a request that got through (status first, so a denial fails loudly). */
export async function upstreamHeaders(client: BrowserClient, url: string): Promise<Record<string, string>> {
  const response = await client.request(url, { headers: { accept: 'application/json' } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { headers: Record<string, string> }).headers;
}

/** The admins' grants page on the admin host and the CSRF token its revoke buttons carry. */
export async function adminGrants(client: BrowserClient, stack: Stack): Promise<{ status: number; html: string; csrf: string }> {
  const response = await client.request(`${stack.adminUrl}/.trustgate/admin/grants`);
  const html = await response.text();
  return { status: response.status, html, csrf: hiddenField(html, 'csrf') ?? '' };
}

export function revoke(client: BrowserClient, stack: Stack, fields: Record<string, string>): Promise<Response> {
  return postForm(client, `${stack.adminUrl}/.trustgate/admin/grants/revoke`, { return: `${stack.adminUrl}/.trustgate/admin/grants`, ...fields });
}

export function eventsNamed(events: AuditLine[], name: string, grantId?: string): AuditLine[] {
  return events.filter((e) => e.event === `break-glass.${name}` && (grantId === undefined || e.grantId === grantId));
}
