// A signed-in user a route refuses learns whom to ask, never who is allowed in: neither the deny page nor
// the JSON answer names the route's allowedGroups, allowedEmails or allowedEmailDomains; the route's
// deniedMessage (or the default) is shown instead.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BrowserClient, signIn } from '../support/browser-client.ts';
import { startStack, type Stack } from '../support/start-stack.ts';
import { DEFAULT_DENIED_MESSAGE } from '../../src/pipeline/act/act.ts';

const ALLOWED = {
  allowedGroups: ['secret-group-alpha', 'engineering'],
  allowedEmails: ['hidden.person@example.com'],
  allowedEmailDomains: ['secret-domain.example'],
};
/** Every allowed value, and the parts a page could show them by (the domain with "@", the local part). */
const REVEALING = ['secret-group-alpha', 'engineering', 'hidden.person', 'secret-domain', '@secret-domain.example'];
const CUSTOM = 'Ask the payroll team in #payroll-access <for access>.';

describe('deny page', () => {
  let stack: Stack;
  let erin: BrowserClient;

  beforeAll(async () => {
    stack = await startStack({
      routes: (upstream) => [
        { name: 'groups', host: '127.0.0.1', pathPrefix: '/groups', upstream, allowedGroups: ALLOWED.allowedGroups },
        { name: 'emails', host: '127.0.0.1', pathPrefix: '/emails', upstream, allowedEmails: ALLOWED.allowedEmails },
        { name: 'domains', host: '127.0.0.1', pathPrefix: '/domains', upstream, allowedEmailDomains: ALLOWED.allowedEmailDomains },
        { name: 'mixed', host: '127.0.0.1', pathPrefix: '/mixed', upstream, ...ALLOWED, deniedMessage: CUSTOM },
        { name: 'open', host: '127.0.0.1', upstream, allowAnyAuthenticatedUser: true },
      ],
    });
    erin = new BrowserClient();
    await signIn(erin, `${stack.url}/`, 'erin');
  });
  afterAll(() => stack.close());

  test.each(['groups', 'emails', 'domains', 'mixed'])('route %s: the page and the JSON name none of the allowed values', async (route) => {
    const page = await erin.request(`${stack.url}/${route}/x`);
    expect(page.status).toBe(403);
    const html = await page.text();
    expect(html).toContain('erin@contractor.example');
    const json = await erin.request(`${stack.url}/${route}/x`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(403);
    const body = await json.text();
    expect(JSON.parse(body)).toMatchObject({ error: 'TG_ERR_FORBIDDEN', reasons: ['user-not-allowed'] });
    for (const value of REVEALING) {
      expect(html, `page of ${route} shows ${value}`).not.toContain(value);
      expect(body, `JSON of ${route} shows ${value}`).not.toContain(value);
    }
  });

  test('the default message says whom to ask; a route with deniedMessage shows its own (escaped)', async () => {
    const plain = await (await erin.request(`${stack.url}/groups/x`)).text();
    expect(plain).toContain("ask the application&#39;s owner or your IT team");
    const custom = await (await erin.request(`${stack.url}/mixed/x`)).text();
    expect(custom).toContain('Ask the payroll team in #payroll-access &lt;for access&gt;.');
    expect(custom).not.toContain(DEFAULT_DENIED_MESSAGE.slice(0, 40));
    const json = (await (await erin.request(`${stack.url}/mixed/x`, { headers: { accept: 'application/json' } })).json()) as { message: string };
    expect(json.message).toContain(CUSTOM);
  });
});
