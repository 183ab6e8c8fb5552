// Browser test: headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) opens the demo,
// signs in on the development IdP's page and sees the demo app with its identity.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { DEMO_CONFIG, launchChromium } from '../support/chromium.ts';
import { startDemo, type Demo } from '../../src/dev/start-demo.ts';


describe('demo in a real browser', () => {
  let demo: Demo;
  let browser: Browser;

  beforeAll(async () => {
    demo = await startDemo(DEMO_CONFIG, { quiet: true, ephemeralPorts: true });
    browser = await launchChromium();
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
