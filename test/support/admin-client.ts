// Drives the admin console like a browser: reads a form's fields out of the page (inputs, ticked
// checkboxes, textareas, selected options), lets a test change some, and posts them back; signs admins in
// on the admin host (admin.host), the only host that serves the console.
import type { BrowserClient } from './browser-client.ts';
import { signedIn, unescapeHtml } from './break-glass-client.ts';
import type { Stack } from './start-stack.ts';

export type Fields = Array<[string, string]>;

function attributes(text: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const m of text.matchAll(/([a-zA-Z-]+)(?:="([^"]*)")?/g)) found[m[1] as string] = unescapeHtml(m[2] ?? '');
  return found;
}

/** The fields the form marked data-testid=`testId` would submit, in document order. */
export function formFields(html: string, testId: string): Fields {
  const body = new RegExp(`<form[^>]*data-testid="${testId}"[^>]*>([\\s\\S]*?)</form>`).exec(html)?.[1];
  if (body === undefined) throw new Error(`no form ${testId} in the page: ${html.slice(0, 400)}`);
  const fields: Fields = [];
  for (const m of body.matchAll(/<input ([^>]*)>|<textarea ([^>]*)>([\s\S]*?)<\/textarea>|<select ([^>]*)>([\s\S]*?)<\/select>/g)) {
    if (m[1] !== undefined) {
      const a = attributes(m[1]);
      if (!a.name || ((a.type === 'checkbox' || a.type === 'radio') && !('checked' in a))) continue;
      fields.push([a.name, a.value ?? 'on']);
    } else if (m[2] !== undefined) {
      const a = attributes(m[2]);
      if (a.name) fields.push([a.name, unescapeHtml(m[3] ?? '')]);
    } else if (m[4] !== undefined) {
      const a = attributes(m[4]);
      const options = [...(m[5] ?? '').matchAll(/<option ([^>]*)>/g)].map((o) => attributes(o[1] as string));
      const chosen = options.find((o) => 'selected' in o) ?? options[0];
      if (a.name && chosen) fields.push([a.name, chosen.value ?? '']);
    }
  }
  return fields;
}

export function field(fields: Fields, name: string): string | undefined {
  return fields.find(([n]) => n === name)?.[1];
}

/** Replaces every value of `name` with `value` (or adds it). */
export function setField(fields: Fields, name: string, value: string): Fields {
  return [...fields.filter(([n]) => n !== name), [name, value]];
}

/** Leaves `name` out, like an unticked checkbox. */
export function dropField(fields: Fields, name: string): Fields {
  return fields.filter(([n]) => n !== name);
}

export function post(client: BrowserClient, url: string, fields: Fields): Promise<Response> {
  return client.request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
}

/** Opens a page and returns its status and HTML. */
export async function open(client: BrowserClient, url: string): Promise<{ status: number; html: string }> {
  const response = await client.request(url);
  return { status: response.status, html: await response.text() };
}

/** The HTML of one form field's block on the route form (its input and any problem shown beside it). */
export function fieldBlock(html: string, name: string): string {
  const start = html.indexOf(`data-field="${name}"`);
  if (start === -1) return '';
  const next = html.indexOf('data-field="', start + 1);
  return html.slice(start, next === -1 ? undefined : next);
}

/**
 * A client signed in as `user` on a route host and then on the admin host (its own sign-in round trip and
 * cookie; the IdP's session lets the second one through without the sign-in page), so it can use both.
 */
export async function signedInAdmin(stack: Stack, user: string): Promise<BrowserClient> {
  const client = await signedIn(stack, user);
  const { response, hops } = await client.follow(`${stack.adminUrl}/.trustgate/admin/`);
  await response.arrayBuffer();
  if (!hops.some((hop) => hop.url.startsWith(`${stack.adminUrl}/.trustgate/callback`))) {
    throw new Error(`expected a sign-in on the admin host, got ${hops.map((h) => `${h.status} ${h.url}`).join(' -> ')}`);
  }
  return client;
}

/**
 * The console's CSRF token for whoever `client` is signed in as on the admin host, minted with the admin
 * host's own keys — what a non-admin could not get from a page, so a test can show the server itself
 * refuses them (not just the missing token).
 */
export async function adminCsrfFor(stack: Stack, client: BrowserClient): Promise<string> {
  const admin = stack.gateway.runtime().adminHost?.plain;
  if (!admin) throw new Error('the stack has no admin host');
  const value = client.cookie(admin.sessions.name)?.value;
  const session = value ? await admin.sessions.read(value) : undefined;
  if (!session) throw new Error('the client has no admin-host session');
  return admin.csrf.token(session);
}
