// A cookie-keeping HTTP client for integration tests: follows redirects by hand (so tests can look at
// every hop) and stores cookies per host and path, the way a browser would for these loopback hosts.
import { parseSetCookie } from 'cookie';
import { loopbackAgent } from './loopback-lookup.ts';

interface StoredCookie {
  name: string;
  value: string;
  host: string;
  path: string;
  expiresAtMs: number | undefined;
  raw: string;
}

export interface Hop {
  url: string;
  status: number;
  location: string | null;
}

export class BrowserClient {
  readonly cookies: StoredCookie[] = [];
  readonly now: () => number;
  /** Merged under every request's init, e.g. an undici `dispatcher` that presents a client certificate. */
  readonly defaults: RequestInit;

  constructor(now: () => number = Date.now, defaults: RequestInit = {}) {
    this.now = now;
    this.defaults = defaults;
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookieHeader = this.cookieHeaderFor(target);
    if (cookieHeader && !headers.has('cookie')) headers.set('cookie', cookieHeader);
    if (!headers.has('accept')) headers.set('accept', 'text/html,application/xhtml+xml');
    // A browser's page navigation (Node's fetch itself adds "Sec-Fetch-Mode: cors" to everything).
    if ((init.method ?? 'GET') === 'GET' && !headers.has('sec-fetch-dest')) headers.set('sec-fetch-dest', 'document');
    // *.localhost names (the admin host) reach loopback through loopbackAgent, as in a browser.
    const response = await fetch(target, { dispatcher: loopbackAgent, ...this.defaults, ...init, headers, redirect: 'manual' });
    this.store(target, response.headers.getSetCookie());
    return response;
  }

  /** Follows redirects (GET after 302/303), returning the final response and every hop. */
  async follow(url: string, init: RequestInit = {}, maxHops = 15): Promise<{ response: Response; hops: Hop[] }> {
    const hops: Hop[] = [];
    let current = url;
    let currentInit = init;
    for (let i = 0; i < maxHops; i++) {
      const response = await this.request(current, currentInit);
      const location = response.headers.get('location');
      hops.push({ url: current, status: response.status, location });
      if (response.status < 300 || response.status >= 400 || !location) return { response, hops };
      await response.arrayBuffer();
      current = new URL(location, current).href;
      currentInit = {};
    }
    throw new Error(`too many redirects: ${hops.map((h) => h.url).join(' -> ')}`);
  }

  cookie(name: string): StoredCookie | undefined {
    return this.cookies.find((c) => c.name === name);
  }

  setCookie(host: string, name: string, value: string, path = '/'): void {
    this.remove(host, name, path);
    this.cookies.push({ name, value, host, path, expiresAtMs: undefined, raw: `${name}=${value}` });
  }

  private cookieHeaderFor(url: URL): string {
    const nowMs = Date.now();
    return this.cookies
      .filter((c) => c.host === url.hostname && url.pathname.startsWith(c.path) && (c.expiresAtMs === undefined || c.expiresAtMs > nowMs))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private store(url: URL, setCookies: string[]): void {
    for (const raw of setCookies) {
      const parsed = parseSetCookie(raw);
      const path = parsed.path ?? '/';
      this.remove(url.hostname, parsed.name, path);
      const expiresAtMs = parsed.maxAge !== undefined ? Date.now() + parsed.maxAge * 1000 : parsed.expires?.getTime();
      if (expiresAtMs !== undefined && expiresAtMs <= Date.now()) continue;
      this.cookies.push({ name: parsed.name, value: parsed.value ?? '', host: url.hostname, path, expiresAtMs, raw });
    }
  }

  private remove(host: string, name: string, path: string): void {
    const index = this.cookies.findIndex((c) => c.host === host && c.name === name && c.path === path);
    if (index !== -1) this.cookies.splice(index, 1);
  }
}

/** Walks the development IdP's sign-in page: picks the demo user and lands back on the gateway. */
export async function signIn(client: BrowserClient, startUrl: string, userId: string): Promise<{ response: Response; hops: Hop[] }> {
  const first = await client.follow(startUrl);
  const page = first.response;
  const html = await page.text();
  const action = /<form method="post" action="([^"]+\/login)">/.exec(html)?.[1];
  if (page.status !== 200 || !action) throw new Error(`expected the IdP sign-in page, got ${page.status}: ${html.slice(0, 300)}`);
  const loginUrl = new URL(action.replace(/&amp;/g, '&'), first.hops.at(-1)?.url).href;
  const posted = await client.request(loginUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user: userId }).toString(),
  });
  const location = posted.headers.get('location');
  if (!location) throw new Error(`IdP login did not redirect: ${posted.status} ${await posted.text()}`);
  const rest = await client.follow(new URL(location, loginUrl).href);
  return { response: rest.response, hops: [...first.hops, { url: loginUrl, status: posted.status, location }, ...rest.hops] };
}

/** Walks the IdP like signIn does, but stops at (does not request) the gateway's callback URL. */
export async function callbackUrlFor(client: BrowserClient, gatewayUrl: string, startUrl: string, userId = 'alice'): Promise<string> {
  return pickIdpUser(client, gatewayUrl, await openIdpSignIn(client, startUrl), userId);
}

/** Follows `startUrl` to the IdP's sign-in page and returns its form's URL (a sign-in left open, as in a tab). */
export async function openIdpSignIn(client: BrowserClient, startUrl: string): Promise<string> {
  const first = await client.follow(startUrl);
  const html = await first.response.text();
  const action = /<form method="post" action="([^"]+\/login)">/.exec(html)?.[1];
  if (!action) throw new Error(`expected the IdP sign-in page, got ${first.response.status}`);
  return new URL(action.replace(/&amp;/g, '&'), first.hops.at(-1)?.url).href;
}

/** Submits an open IdP sign-in form and returns the gateway callback URL it sends the browser to. */
export async function pickIdpUser(client: BrowserClient, gatewayUrl: string, formUrl: string, userId = 'alice'): Promise<string> {
  let response = await client.request(formUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user: userId }).toString(),
  });
  let current = formUrl;
  for (let i = 0; i < 10; i++) {
    const location = response.headers.get('location');
    if (!location) throw new Error(`IdP stopped redirecting at ${current} with ${response.status}`);
    const next = new URL(location, current).href;
    if (next.startsWith(`${gatewayUrl}/.trustgate/callback`)) return next;
    await response.arrayBuffer();
    current = next;
    response = await client.request(current);
  }
  throw new Error('never reached the callback');
}

/** Signs out the way a browser does: opens the confirmation page and presses Sign out (CSRF token included). */
export async function signOut(client: BrowserClient, gatewayUrl: string): Promise<Response> {
  const page = await client.request(`${gatewayUrl}/.trustgate/logout`);
  const html = await page.text();
  const csrf = /<form[^>]*data-testid="sign-out-form"[\s\S]*?name="csrf" value="([^"]*)"/.exec(html)?.[1];
  if (page.status !== 200 || csrf === undefined) throw new Error(`expected the sign-out page, got ${page.status}: ${html.slice(0, 300)}`);
  return client.request(`${gatewayUrl}/.trustgate/logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: gatewayUrl },
    body: new URLSearchParams({ csrf }).toString(),
  });
}
