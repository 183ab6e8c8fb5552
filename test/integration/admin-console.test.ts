// The admin console through the real gateway running from a config file: who may use it, CSRF on every
// write, validation beside the fields, preview (diff and impact), save with hot reload, rollback,
// conflicts, edits on disk (invalid ones refused) and a save under concurrent load.
import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, test } from 'vitest';
import { BrowserClient } from '../support/browser-client.ts';
import { hiddenField } from '../support/break-glass-client.ts';
import { dropField, field, fieldBlock, formFields, open, post, setField, signedInAdmin, type Fields } from '../support/admin-client.ts';
import { FLEET_TOKEN, startStack, type Stack } from '../support/start-stack.ts';

const ADMIN = '/.trustgate/admin';
let stack: Stack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** Route "app": engineering, device must pass policy 2 (screen lock), which bob's laptop does. */
async function start(): Promise<Stack> {
  stack = await startStack({ configFile: true, fleet: {}, route: { device: { requirePolicies: [2] } } });
  return stack;
}

async function editForm(client: BrowserClient, s: Stack, name = 'app'): Promise<Fields> {
  const page = await open(client, `${s.adminUrl}${ADMIN}/routes/edit?name=${name}`);
  expect(page.status).toBe(200);
  return formFields(page.html, 'route-form');
}

async function preview(client: BrowserClient, s: Stack, fields: Fields): Promise<{ status: number; html: string }> {
  const response = await post(client, `${s.adminUrl}${ADMIN}/routes/preview`, fields);
  return { status: response.status, html: await response.text() };
}

/** The history page's rollback form for `version`. */
async function rollbackFields(client: BrowserClient, s: Stack, version: string): Promise<Fields> {
  const history = await open(client, `${s.adminUrl}${ADMIN}/history`);
  const row = new RegExp(`data-version="${version}"[\\s\\S]*?</tr>`).exec(history.html)?.[0] ?? '';
  return formFields(row.replace('<form', '<form data-testid="rollback-form"'), 'rollback-form');
}

const configText = (s: Stack): Promise<string> => readFile(s.configFile as string, 'utf8');
const status = async (client: BrowserClient, url: string): Promise<number> => {
  const response = await client.request(url);
  await response.arrayBuffer();
  return response.status;
};

describe('who may use the admin console', () => {
  test('alice (admin) gets the routes list; bob and erin get 403; anonymous visitors are sent to sign in', async () => {
    const s = await start();
    const anonymous = await new BrowserClient().request(`${s.adminUrl}${ADMIN}/`);
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get('location')).toBe(`/.trustgate/login?rd=${encodeURIComponent(`${ADMIN}/`)}`);
    for (const user of ['bob', 'erin']) {
      const client = await signedInAdmin(s, user);
      for (const page of ['/', '/routes/edit?name=app', '/history', '/decisions']) expect(await status(client, `${s.adminUrl}${ADMIN}${page}`)).toBe(403);
    }
    const alice = await open(await signedInAdmin(s, 'alice'), `${s.adminUrl}${ADMIN}/`);
    expect(alice.status).toBe(200);
    expect(alice.html).toContain('data-route="app"');
    expect(alice.html).toContain(s.upstream.url);
    for (const link of ['/.trustgate/admin/history', '/.trustgate/admin/decisions', '/.trustgate/admin/grants', '/.trustgate/admin/routes/edit']) expect(alice.html).toContain(`href="${link}`);
  });

  test('a non-admin with a valid CSRF token still cannot save', async () => {
    const s = await start();
    const alice = await signedInAdmin(s, 'alice');
    const fields = setField(await editForm(alice, s), 'allowedGroups', 'engineering, contractors');
    const bob = await signedInAdmin(s, 'bob');
    // The admin host's own cookie scope (plain http on loopback): bob's admin-host session and a token for it.
    const runtime = s.gateway.runtime().adminHost?.plain;
    if (!runtime) throw new Error('the stack has no admin host');
    const session = await runtime.sessions.read(bob.cookie(runtime.sessions.name)?.value ?? '');
    if (!session) throw new Error('bob has no session');
    const before = await configText(s);
    const response = await post(bob, `${s.adminUrl}${ADMIN}/routes/save`, setField(fields, 'csrf', runtime.csrf.token(session)));
    expect(response.status).toBe(403);
    expect(await configText(s)).toBe(before);
  });

  test('every POST needs the CSRF token', async () => {
    const s = await start();
    const alice = await signedInAdmin(s, 'alice');
    const fields = setField(await editForm(alice, s), 'allowedGroups', 'sales');
    const before = await configText(s);
    const posts: Array<[string, Fields]> = [
      ['/routes/edit', fields],
      ['/routes/preview', fields],
      ['/routes/save', fields],
      ['/routes/delete', [...fields, ['name', 'app']]],
      ['/history/rollback', [...fields, ['version', '0123456789abcdef']]],
    ];
    for (const [path, body] of posts) {
      for (const csrf of [undefined, 'forged-token']) {
        const sent = csrf === undefined ? dropField(body, 'csrf') : setField(body, 'csrf', csrf);
        const response = await post(alice, `${s.adminUrl}${ADMIN}${path}`, sent);
        expect({ path, status: response.status }).toEqual({ path, status: 403 });
        expect(await response.text()).toContain('This form has expired');
      }
    }
    expect(await configText(s)).toBe(before);
  });
});

describe('editing a route', () => {
  test('problems are shown beside their fields, with what the admin typed kept', async () => {
    const s = await start();
    const alice = await signedInAdmin(s, 'alice');
    let fields = await editForm(alice, s);
    fields = setField(fields, 'upstream', 'not a url');
    fields = setField(fields, 'mode', 'warn');
    fields = setField(fields, 'warnUntil', 'next tuesday');
    fields = setField(fields, 'allowedGroups', 'engineering, <b>sales</b>');
    const page = await preview(alice, s, fields);
    expect(page.status).toBe(400);
    expect(fieldBlock(page.html, 'upstream')).toContain('data-testid="problem-upstream"');
    expect(fieldBlock(page.html, 'upstream')).toContain('must be an http(s) URL');
    expect(fieldBlock(page.html, 'upstream')).toContain('value="not a url"');
    expect(fieldBlock(page.html, 'warnUntil')).toContain('data-testid="problem-warnUntil"');
    expect(fieldBlock(page.html, 'warnUntil')).toContain('value="next tuesday"');
    expect(fieldBlock(page.html, 'name')).not.toContain('field-problem');
    // The admin's input comes back escaped and intact, ready to fix and preview again.
    const back = formFields(page.html, 'route-form');
    expect(field(back, 'allowedGroups')).toBe('engineering, <b>sales</b>');
    expect(field(back, 'mode')).toBe('warn');
    expect(page.html).not.toContain('<b>sales</b>');
  });

  test('add a required policy: preview shows the diff and impact, save applies it without a restart, rollback undoes it', async () => {
    const s = await start();
    const bob = await signedInAdmin(s, 'bob');
    expect(await status(bob, `${s.url}/`)).toBe(200);
    const alice = await signedInAdmin(s, 'alice');
    const fields = await editForm(alice, s);
    expect(fields).toContainEqual(['requirePolicies', '2']);
    const page = await preview(alice, s, [...fields, ['requirePolicies', '1']]);
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/<span class="add">\+ +- 1<\/span>/);
    const fleetPolicies = (await (await fetch(`${s.fleet?.url}/api/v1/fleet/global/policies`, { headers: { authorization: `Bearer ${FLEET_TOKEN}` } })).json()) as {
      policies: Array<{ id: number; failing_host_count: number; passing_host_count: number }>;
    };
    const disk = fleetPolicies.policies.find((p) => p.id === 1);
    const row = /data-policy="1">([\s\S]*?)<\/tr>/.exec(page.html)?.[1] ?? '';
    expect(row).toContain('Disk encryption enabled');
    expect(row).toContain(`<td data-testid="failing">${disk?.failing_host_count}</td>`);
    expect(row).toContain(`<td data-testid="passing">${disk?.passing_host_count}</td>`);
    expect(page.html).toMatch(/data-user="bob@example.com" data-consequence="denied"[\s\S]*?fails &#34;Disk encryption enabled&#34;/);
    expect(page.html).not.toContain('data-user="alice@example.com"');

    const saved = await post(alice, `${s.adminUrl}${ADMIN}/routes/save`, setField(formFields(page.html, 'save-form'), 'comment', 'Require disk encryption (INC-42)'));
    expect(saved.status).toBe(302);
    const location = saved.headers.get('location') ?? '';
    expect(location).toMatch(/^\/\.trustgate\/admin\/\?done=saved&version=[0-9a-f]{16}&route=app$/);
    expect((await open(alice, `${s.adminUrl}${location}`)).html).toContain('data-testid="notice"');
    expect(await status(bob, `${s.url}/`)).toBe(403);
    expect(await status(alice, `${s.url}/`)).toBe(200);
    expect(await configText(s)).toMatch(/requirePolicies:\n\s+- 2\n\s+- 1\n/);
    const change = s.logs.find((l) => l.msg === 'configuration changed');
    expect(change).toMatchObject({ author: 'alice@example.com', comment: 'Require disk encryption (INC-42)', route: 'app', routes: ['app'], change: 'update' });
    expect(change?.version).toBe(location.split('version=')[1]?.split('&')[0]);

    const history = await open(alice, `${s.adminUrl}${ADMIN}/history`);
    expect(history.html).toContain('Require disk encryption (INC-42)');
    const rolled = await post(alice, `${s.adminUrl}${ADMIN}/history/rollback`, await rollbackFields(alice, s, String(change?.previous)));
    expect(rolled.status).toBe(302);
    expect(await status(bob, `${s.url}/`)).toBe(200);
    expect(await configText(s)).not.toMatch(/- 1\n/);
  });

  test('two admins from the same version: the second save is a 409 with the diff, and the file keeps the first', async () => {
    const s = await start();
    const alice = await signedInAdmin(s, 'alice');
    const first = await editForm(alice, s);
    const second = await editForm(alice, s);
    const previewA = await preview(alice, s, setField(first, 'allowedGroups', 'engineering, sales'));
    const previewB = await preview(alice, s, setField(second, 'allowedEmails', 'erin@contractor.example'));
    expect([previewA.status, previewB.status]).toEqual([200, 200]);
    expect((await post(alice, `${s.adminUrl}${ADMIN}/routes/save`, formFields(previewA.html, 'save-form'))).status).toBe(302);
    const afterA = await configText(s);
    const conflict = await post(alice, `${s.adminUrl}${ADMIN}/routes/save`, formFields(previewB.html, 'save-form'));
    expect(conflict.status).toBe(409);
    const html = await conflict.text();
    expect(html).toContain('Someone else saved');
    expect(html).toMatch(/<span class="add">\+ +- sales<\/span>/);
    expect(await configText(s)).toBe(afterA);
    // Reopening carries the second admin's input over onto the current version.
    const reopened = await post(alice, `${s.adminUrl}${ADMIN}/routes/edit`, formFields(html, 'reopen-form'));
    const reopenedHtml = await reopened.text();
    expect(reopened.status).toBe(200);
    expect(field(formFields(reopenedHtml, 'route-form'), 'allowedEmails')).toBe('erin@contractor.example');
    const current = /data-testid="current-version">([0-9a-f]{16})</.exec(html)?.[1];
    expect(current).toBeDefined();
    expect(hiddenField(reopenedHtml, 'baseVersion')).toBe(current);
  });
});

describe('edits on disk', () => {
  test('an invalid file is refused and the old config keeps serving; rollback repairs it; a valid edit is picked up', async () => {
    const s = await start();
    const bob = await signedInAdmin(s, 'bob');
    const alice = await signedInAdmin(s, 'alice');
    const page = await preview(alice, s, setField(await editForm(alice, s), 'allowedGroups', 'engineering\nsales'));
    expect((await post(alice, `${s.adminUrl}${ADMIN}/routes/save`, formFields(page.html, 'save-form'))).status).toBe(302);
    const good = await configText(s);

    await writeFile(s.configFile as string, good.replace(/upstream: .*/, 'upstream: not-a-url'));
    await expect.poll(() => s.logs.some((l) => String(l.msg).includes('is invalid: keeping the running configuration')), { timeout: 10_000 }).toBe(true);
    expect(await status(bob, `${s.url}/`)).toBe(200);
    expect((await open(alice, `${s.adminUrl}${ADMIN}/`)).html).toContain('data-testid="file-problem"');

    const saved = String(s.logs.find((l) => l.msg === 'configuration changed')?.version);
    expect((await post(alice, `${s.adminUrl}${ADMIN}/history/rollback`, await rollbackFields(alice, s, saved))).status).toBe(302);
    expect(await configText(s)).toBe(good);
    expect((await open(alice, `${s.adminUrl}${ADMIN}/`)).html).not.toContain('data-testid="file-problem"');

    await writeFile(s.configFile as string, good.replace(/\n *- engineering\n/, '\n'));
    await expect.poll(() => status(bob, `${s.url}/`), { timeout: 10_000 }).toBe(403);
    expect(s.logs.some((l) => l.msg === 'configuration file changed: reloaded')).toBe(true);
  });
});

describe('reload under load', () => {
  test('a save while ~200 requests run: none fails, and the ones after the save see the new config', async () => {
    const s = await start();
    const alice = await signedInAdmin(s, 'alice');
    const page = await preview(alice, s, setField(await editForm(alice, s), 'preserveHost', 'on'));
    const save = formFields(page.html, 'save-form');
    const gatewayHost = new URL(s.url).host;
    let savedAt = -1;
    let started = 0;
    const results: Array<{ status: number; host: string; afterSave: boolean }> = [];
    // At least 200 requests, and at least 50 that start after the save has been applied (bounded at 400).
    const afterSaveCount = (): number => results.filter((r) => r.afterSave).length;
    async function worker(): Promise<void> {
      while ((started < 200 || afterSaveCount() < 50) && started < 400) {
        const index = started++;
        const afterSave = savedAt !== -1;
        if (index === 60) {
          const response = await post(alice, `${s.adminUrl}${ADMIN}/routes/save`, save);
          expect(response.status).toBe(302);
          savedAt = index;
        }
        const response = await alice.request(`${s.url}/echo`, { headers: { accept: 'application/json' } });
        const body = response.status === 200 ? ((await response.json()) as { headers: Record<string, string> }) : undefined;
        results.push({ status: response.status, host: body?.headers.host ?? '', afterSave });
      }
    }
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(results.length).toBeGreaterThanOrEqual(200);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    const after = results.filter((r) => r.afterSave);
    expect(after.length).toBeGreaterThanOrEqual(50);
    expect(after.filter((r) => r.host !== gatewayHost)).toEqual([]);
    expect(results.some((r) => !r.afterSave && r.host !== gatewayHost)).toBe(true);
  });
});
