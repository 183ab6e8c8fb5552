// Browser test: bob, denied because FileVault is off, asks for emergency access (a too-short reason
// first), gets in for 15 minutes; alice revokes the grant on the admin page and bob is denied again.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { DEMO_CONFIG, launchChromium } from '../support/chromium.ts';
import { startDemo, type Demo } from '../../src/dev/start-demo.ts';

const REASON = 'Prod outage INC-4711: I need the runbook in the demo app right now';

/**
 * The demo config with the break-glass store and audit in a temp dir: startDemo leaves them in var/,
 * where grants from earlier runs would count against bob's daily limit (and clutter a developer's demo).
 */
async function demoConfigIn(dir: string): Promise<string> {
  const doc = parseDocument(await readFile(DEMO_CONFIG, 'utf8'));
  doc.setIn(['breakGlass'], doc.createNode({
    store: { kind: 'file', file: path.join(dir, 'break-glass-grants.jsonl') },
    audit: { file: path.join(dir, 'break-glass-audit.jsonl'), spoolDir: path.join(dir, 'audit-spool') },
  }));
  const file = path.join(dir, 'trustgate.yaml');
  await writeFile(file, doc.toString());
  return file;
}

async function signInAs(page: Page, user: string): Promise<void> {
  await expect.poll(() => page.title()).toContain('Trustgate development sign-in');
  await page.locator(`button[name="user"][value="${user}"]`).click();
}

describe('emergency access in a real browser', () => {
  let dir: string;
  let demo: Demo;
  let browser: Browser;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trustgate-e2e-break-glass-'));
    demo = await startDemo(await demoConfigIn(dir), { quiet: true, ephemeralPorts: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('bob breaks the glass, gets in, and is locked out again when alice revokes the grant', async () => {
    const bobContext = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const bob = await bobContext.newPage();
    await bob.goto(`${demo.gatewayUrl}/`);
    await signInAs(bob, 'bob');
    await bob.waitForURL(`${demo.gatewayUrl}/`);
    await expect.poll(() => bob.locator('[data-testid="deny-heading"]').count(), { timeout: 5_000 }).toBe(1);

    await bob.locator('[data-testid="break-glass-link"]').click();
    await bob.waitForURL(/\/\.trustgate\/break-glass\?return=/);
    expect(await bob.locator('[data-testid="break-glass-heading"]').innerText()).toContain('Request emergency access to demo-app');
    expect(await bob.locator('body').innerText()).toContain('Disk encryption enabled');

    // Too short: the form comes back with the message and his text still there.
    await bob.locator('[data-testid="reason"]').fill('Need it now');
    await bob.locator('[data-testid="duration"]').selectOption({ label: '15m' });
    await bob.locator('[data-testid="acknowledge"]').check();
    await bob.locator('[data-testid="submit"]').click();
    await expect.poll(() => bob.locator('[data-testid="reason-error"]').count(), { timeout: 5_000 }).toBe(1);
    expect(await bob.locator('[data-testid="reason-error"]').innerText()).toContain('at least 20 characters');
    expect(await bob.locator('[data-testid="reason"]').inputValue()).toBe('Need it now');
    await bob.screenshot({ path: 'test-results/break-glass-form.png', fullPage: true });

    await bob.locator('[data-testid="reason"]').fill(REASON);
    await bob.locator('[data-testid="duration"]').selectOption({ label: '15m' });
    await bob.locator('[data-testid="acknowledge"]').check();
    await bob.locator('[data-testid="submit"]').click();
    await expect.poll(() => bob.locator('[data-testid="granted-heading"]').count(), { timeout: 5_000 }).toBe(1);
    expect(await bob.locator('[data-testid="granted-heading"]').innerText()).toBe('Emergency access granted');
    expect(await bob.locator('[data-testid="until"]').innerText()).toMatch(/GMT$/);
    await bob.locator('[data-testid="continue"]').click();
    await bob.waitForURL(`${demo.gatewayUrl}/`);
    await expect.poll(() => bob.locator('body').innerText(), { timeout: 5_000 }).toContain('Trustgate demo app');

    // Alice, an admin, finds the grant with bob's reason and revokes it.
    const aliceContext = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const alice = await aliceContext.newPage();
    await alice.goto(`${demo.adminUrl}/.trustgate/admin/grants`);
    await signInAs(alice, 'alice');
    await alice.waitForURL(`${demo.adminUrl}/.trustgate/admin/grants`);
    const grant = alice.locator('[data-testid="grant"]', { hasText: 'bob@example.com' });
    expect(await grant.count()).toBe(1);
    expect(await grant.innerText()).toContain(REASON);
    await alice.screenshot({ path: 'test-results/break-glass-admin.png', fullPage: true });
    await grant.locator('[data-testid="revoke"]').click();
    await alice.waitForURL(`${demo.adminUrl}/.trustgate/admin/grants?revoked=1`);
    expect(await alice.locator('body').innerText()).toContain('The grant was revoked.');
    expect(await alice.locator('[data-testid="grant"]').count()).toBe(0);

    await bob.reload();
    await expect.poll(() => bob.locator('[data-testid="deny-heading"]').count(), { timeout: 5_000 }).toBe(1);
    expect(await bob.locator('body').innerText()).not.toContain('Trustgate demo app');
    await Promise.all([aliceContext.close(), bobContext.close()]);
  });
});
