// ${NAME} in the admin console: values typed into any route field are never substituted ("${" is refused
// beside the field, and nothing is written), and no admin page ever shows what the environment put into
// the file's own ${NAME} references; a rollback cannot bring back a reference the file's author did not write.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BrowserClient } from '../support/browser-client.ts';
import { fieldBlock, formFields, open, post, setField, signedInAdmin, type Fields } from '../support/admin-client.ts';
import { startStack, type Stack } from '../support/start-stack.ts';

const ADMIN = '/.trustgate/admin';

/** Distinctive values the file's ${NAME} references expand to: none may appear on an admin page. */
const ENV = {
  LEAK_SESSION_SECRET: 'Zk3-leaky-session-secret-9Qw7Rt2Yu8Io1Pa5Sd',
  LEAK_GROUP: 'leaky-group-q7x3',
  LEAK_EMAIL_DOMAIN: 'leaky-domain-q7x3.test',
  LEAK_PUBLIC: '/leaky-public-q7x3',
  LEAK_HOST: 'leaky-host-q7x3.internal',
  LEAK_POLICY: 'Leaky policy q7x3',
  LEAK_GRACE: '1234567s',
  LEAK_WARN: '2031-07-13T11:22:33Z',
};

function routes(upstream: string): Record<string, unknown>[] {
  return [
    { name: 'app', host: '127.0.0.1', upstream, allowedGroups: ['engineering', '${LEAK_GROUP}'], allowedEmailDomains: ['${LEAK_EMAIL_DOMAIN}'], public: ['/public', '${LEAK_PUBLIC}'] },
    {
      name: 'other',
      host: 'other.localhost',
      upstream: 'http://${LEAK_HOST}:9',
      allowedGroups: ['engineering'],
      device: { requirePolicies: [2, '${LEAK_POLICY}'], emptyResult: 'grace', emptyResultGrace: '${LEAK_GRACE}', mode: 'warn', warnUntil: '${LEAK_WARN}' },
    },
  ];
}

const start = (): Promise<Stack> => startStack({ configFile: true, fleet: {}, env: ENV, session: { secrets: ['${LEAK_SESSION_SECRET}'] }, routes });
const configText = (s: Stack): Promise<string> => readFile(s.configFile as string, 'utf8');

async function editForm(client: BrowserClient, s: Stack, name: string): Promise<Fields> {
  const page = await open(client, `${s.adminUrl}${ADMIN}/routes/edit?name=${name}`);
  expect(page.status).toBe(200);
  return formFields(page.html, 'route-form');
}

function expectNoLeak(where: string, html: string): void {
  for (const [name, value] of Object.entries(ENV)) expect(html.includes(value), `${where} shows the value of ${name}`).toBe(false);
}

describe('values typed into the admin console are never substituted', () => {
  let s: Stack;
  let alice: BrowserClient;
  beforeAll(async () => {
    s = await start();
    alice = await signedInAdmin(s, 'alice');
  });
  afterAll(() => s.close());

  const TEXT_FIELDS = ['name', 'host', 'pathPrefix', 'upstream', 'allowedGroups', 'allowedEmailDomains', 'allowedEmails', 'public', 'requirePoliciesText', 'emptyResult', 'emptyResultGrace',
    'maxCheckInAge', 'maxPolicyAge', 'mode', 'warnUntil', 'trustMin', 'trustMode', 'breakGlassDurations', 'breakGlassMaxDuration', 'breakGlassReasonMinLength', 'breakGlassPerDay', 'deniedMessage'];
  const SHOWN_AT: Record<string, string> = { requirePoliciesText: 'requirePolicies' };
  const SPELLINGS = ['${LEAK_SESSION_SECRET}', 'http://x/${LEAK_SESSION_SECRET}', 'a, ${LEAK_SESSION_SECRET:-x}', '${A'];

  test.each(TEXT_FIELDS.flatMap((f) => SPELLINGS.map((v) => [f, v])))('%s = %j is refused beside the field, on preview and on save', async (name, value) => {
    const before = await configText(s);
    // A new route and an existing one: neither may take a typed ${.
    for (const fields of [await editForm(alice, s, 'app'), formFields((await open(alice, `${s.adminUrl}${ADMIN}/routes/edit`)).html, 'route-form')]) {
      const sent = setField(setField(setField(fields, 'device', 'on'), 'trust', 'on'), name, value);
      for (const action of ['preview', 'save']) {
        const response = await post(alice, `${s.adminUrl}${ADMIN}/routes/${action}`, sent);
        const html = await response.text();
        expect({ action, status: response.status }).toEqual({ action, status: 400 });
        expect(fieldBlock(html, SHOWN_AT[name] ?? name)).toContain('never substitutes environment variables');
        expectNoLeak(`${action} of ${name}`, html);
      }
    }
    expect(await configText(s)).toBe(before);
  });

  test('a ticked policy value with ${ is refused too', async () => {
    const before = await configText(s);
    const response = await post(alice, `${s.adminUrl}${ADMIN}/routes/save`, [...(await editForm(alice, s, 'app')), ['device', 'on'], ['requirePolicies', '${LEAK_POLICY}']]);
    expect(response.status).toBe(400);
    expect(fieldBlock(await response.text(), 'requirePolicies')).toContain('never substitutes environment variables');
    expect(await configText(s)).toBe(before);
  });

  test("a reference the file's author wrote is kept on an unrelated save, but cannot be copied to another field", async () => {
    const fields = await editForm(alice, s, 'other');
    const copied = await post(alice, `${s.adminUrl}${ADMIN}/routes/preview`, setField(fields, 'allowedGroups', 'engineering, http://${LEAK_HOST}:9'));
    expect(copied.status).toBe(400);
    expect(fieldBlock(await copied.text(), 'allowedGroups')).toContain('never substitutes environment variables');
    const preview = await post(alice, `${s.adminUrl}${ADMIN}/routes/preview`, setField(fields, 'allowedEmails', 'auditor@example.com'));
    const html = await preview.text();
    expect(preview.status).toBe(200);
    expectNoLeak('the preview', html);
    const saved = await post(alice, `${s.adminUrl}${ADMIN}/routes/save`, formFields(html, 'save-form'));
    expect(saved.status).toBe(302);
    const text = await configText(s);
    expect(text).toContain('auditor@example.com');
    expect(text).toContain('http://${LEAK_HOST}:9');
    expect(text).toContain('${LEAK_POLICY}');
  });
});

describe('no admin page shows a value the environment put into the file', () => {
  let s: Stack;
  let alice: BrowserClient;
  beforeAll(async () => {
    s = await start();
    alice = await signedInAdmin(s, 'alice');
    // A few decisions for the decisions page and the preview's impact.
    await alice.request(`${s.url}/`);
  });
  afterAll(() => s.close());

  test('routes list, edit forms, preview, save notice, history, decisions, grants, problems and conflicts', async () => {
    const pages: Array<[string, string]> = [];
    const list = await open(alice, `${s.adminUrl}${ADMIN}/`);
    expect(list.status).toBe(200);
    // The list says what the file says.
    expect(list.html).toContain('${LEAK_GROUP}');
    expect(list.html).toContain('http://${LEAK_HOST}:9');
    pages.push(['routes list', list.html]);
    for (const name of ['app', 'other']) pages.push([`edit ${name}`, (await open(alice, `${s.adminUrl}${ADMIN}/routes/edit?name=${name}`)).html]);
    const fields = await editForm(alice, s, 'app');
    const invalid = await post(alice, `${s.adminUrl}${ADMIN}/routes/preview`, setField(fields, 'upstream', 'not a url'));
    expect(invalid.status).toBe(400);
    pages.push(['problems', await invalid.text()]);
    for (const name of ['app', 'other']) {
      const page = await post(alice, `${s.adminUrl}${ADMIN}/routes/preview`, setField(await editForm(alice, s, name), 'allowedEmails', 'x@example.com'));
      expect(page.status).toBe(200);
      pages.push([`preview ${name}`, await page.text()]);
    }
    const preview = pages.at(-1)?.[1] ?? '';
    const stale = fields;
    const saved = await post(alice, `${s.adminUrl}${ADMIN}/routes/save`, formFields(preview, 'save-form'));
    expect(saved.status).toBe(302);
    pages.push(['saved', (await open(alice, `${s.adminUrl}${saved.headers.get('location') ?? ''}`)).html]);
    const conflict = await post(alice, `${s.adminUrl}${ADMIN}/routes/save`, setField(stale, 'allowedEmails', 'y@example.com'));
    expect(conflict.status).toBe(409);
    pages.push(['conflict', await conflict.text()]);
    for (const page of ['/history', '/decisions', '/grants']) pages.push([page, (await open(alice, `${s.adminUrl}${ADMIN}${page}`)).html]);
    for (const [where, html] of pages) expectNoLeak(where, html);
  });

  test('a rollback cannot restore a ${…} an admin typed (e.g. saved by an older gateway); the file stays as it is', async () => {
    const before = await configText(s);
    const historyDir = path.join(path.dirname(s.configFile as string), '.trustgate-history', path.basename(s.configFile as string));
    const planted = before.replace('- engineering', '- ${LEAK_SESSION_SECRET}');
    const version = 'feedfacefeedface';
    await writeFile(path.join(historyDir, `${version}.yaml`), planted);
    await writeFile(path.join(historyDir, 'history.jsonl'), `${JSON.stringify({ version, previous: '', author: 'mallory@example.com', comment: 'old', time: new Date().toISOString() })}\n`, { flag: 'a' });
    const history = await open(alice, `${s.adminUrl}${ADMIN}/history`);
    const row = new RegExp(`data-version="${version}"[\\s\\S]*?</tr>`).exec(history.html)?.[0] ?? '';
    const rollback = await post(alice, `${s.adminUrl}${ADMIN}/history/rollback`, formFields(row.replace('<form', '<form data-testid="rollback-form"'), 'rollback-form'));
    const html = await rollback.text();
    expect(rollback.status).toBe(400);
    expect(html).toContain('restore it by editing the config file');
    expectNoLeak('the refused rollback', html);
    expect(await configText(s)).toBe(before);
  });
});
