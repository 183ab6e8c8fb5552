// A config history whose last line was cut in half (a crash mid-append) must not break the console: the
// history page, the conflict page (which reads the history) and rollback all answer, and the next save
// starts a fresh line. Before the fix the conflict page's history read was not awaited, so its failure
// left the request without an answer forever; the vitest timeout turns such a hang into a failure.
import { appendFile, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { BrowserClient } from '../support/browser-client.ts';
import { formFields, open, post, setField, signedInAdmin, type Fields } from '../support/admin-client.ts';
import { startStack, type Stack } from '../support/start-stack.ts';

const ADMIN = '/.trustgate/admin';
let stack: Stack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const TORN = '{"version":"0123456789abcdef","author":"bob@exa';
const historyFile = (s: Stack): string => join(dirname(String(s.configFile)), '.trustgate-history', basename(String(s.configFile)), 'history.jsonl');

async function previewFields(client: BrowserClient, s: Stack, groups: string): Promise<{ status: number; html: string; fields: Fields }> {
  const form = await open(client, `${s.adminUrl}${ADMIN}/routes/edit?name=app`);
  const fields = setField(formFields(form.html, 'route-form'), 'allowedGroups', groups);
  const response = await post(client, `${s.adminUrl}${ADMIN}/routes/preview`, fields);
  return { status: response.status, html: await response.text(), fields };
}

/** Alice saves once (from `stale`'s version), then the history's last line is torn as by a crash. */
async function savedThenTorn() {
  const s = (stack = await startStack({ configFile: true }));
  const alice = await signedInAdmin(s, 'alice');
  const stale = await previewFields(alice, s, 'engineering, support');
  const first = await previewFields(alice, s, 'engineering, sales');
  expect([stale.status, first.status]).toEqual([200, 200]);
  const saved = await post(alice, `${s.adminUrl}${ADMIN}/routes/save`, formFields(first.html, 'save-form'));
  expect(saved.status).toBe(302);
  const savedVersion = new URL(String(saved.headers.get('location')), s.adminUrl).searchParams.get('version') ?? '';
  expect(savedVersion).toMatch(/^[0-9a-f]{16}$/);
  const original = (JSON.parse(await readFile(historyFile(s), 'utf8')) as { previous: string }).previous;
  await appendFile(historyFile(s), TORN);
  return { s, alice, stale, savedVersion, original };
}

// The conflict page was sent without being awaited: its failed history read answered nothing, ever.
test('a torn last history line: a stale preview answers with the conflict page', { timeout: 30_000 }, async () => {
  const { s, alice, stale } = await savedThenTorn();
  const conflict = await post(alice, `${s.adminUrl}${ADMIN}/routes/preview`, stale.fields);
  expect(conflict.status).toBe(409);
  const html = await conflict.text();
  expect(html).toContain('Someone else saved first');
  expect(html).toContain('alice@example.com');
});

test('a torn last history line: the history page lists the whole entries, rollback works, the next entry starts a new line', { timeout: 30_000 }, async () => {
  const { s, alice, savedVersion, original } = await savedThenTorn();
  const history = await open(alice, `${s.adminUrl}${ADMIN}/history`);
  expect(history.status).toBe(200);
  expect(history.html).toContain(`data-version="${savedVersion}"`);

  const rollbackRow = new RegExp(`data-version="${original}"[\\s\\S]*?</tr>`).exec(history.html)?.[0] ?? '';
  const rolled = await post(alice, `${s.adminUrl}${ADMIN}/history/rollback`, formFields(rollbackRow.replace('<form', '<form data-testid="rollback-form"'), 'rollback-form'));
  expect(rolled.status).toBe(302);

  const lines = (await readFile(historyFile(s), 'utf8')).split('\n');
  expect(lines).toHaveLength(4);
  expect(lines[1]).toBe(TORN);
  expect(JSON.parse(lines[2] ?? '')).toMatchObject({ version: original, previous: savedVersion, author: 'alice@example.com' });
  expect(lines[3]).toBe('');
  const after = await open(alice, `${s.adminUrl}${ADMIN}/history`);
  expect(after.status).toBe(200);
  expect(after.html).toContain(`data-version="${savedVersion}"`);
  expect(after.html).toContain(`rolled back to version ${original}`);
});
