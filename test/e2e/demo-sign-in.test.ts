// Browser test: headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) opens the demo,
// signs in on the development IdP's page and sees the demo app with its identity.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { startDemo, type Demo } from '../../src/dev/start-demo.ts';

const CHROMIUM = '/usr/bin/chromium';
const DEMO_CONFIG = fileURLToPath(new URL('../../config/trustgate.yaml', import.meta.url));
// Flags from the machine notes: no sandbox as root, and no background networking on a closed network.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('demo in a real browser', () => {
  let demo: Demo;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (.ci/run does)`);
    demo = await startDemo(DEMO_CONFIG, { quiet: true, ephemeralPorts: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });

  test('sign in as alice and see the app with her identity', async () => {
    const page = await browser.newPage();
    await page.goto(`${demo.gatewayUrl}/`);
    await expect.poll(() => page.title()).toContain('Trustgate development sign-in');
    await page.locator('button[name="user"][value="alice"]').click();
    await page.waitForURL(`${demo.gatewayUrl}/`);
    const body = await page.locator('body').innerText();
    expect(body).toContain('Trustgate demo app');
    expect(body).toContain('alice@example.com');
    expect(body).toMatch(/x-trustgate-groups\s+engineering,trustgate-admins/i);
    await page.screenshot({ path: 'test-results/demo-signed-in.png' });

    await page.goto(`${demo.gatewayUrl}/.trustgate/logout`);
    await expect.poll(() => page.locator('h1').innerText()).toContain('You are signed out');
  });
});
