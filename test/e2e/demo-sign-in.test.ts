// Browser test: headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) opens the demo,
// signs in on the development IdP's page and sees the demo app with its identity.
import { describe, expect, test } from 'vitest';
import { demoInBrowser } from '../support/chromium.ts';

describe('demo in a real browser', () => {
  const env = demoInBrowser();

  test('sign in as alice and see the app with her identity', async () => {
    const { demo, browser } = env.get();
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

    // The demo app's "Sign out" link opens the confirmation page; its button signs out (a POST with CSRF).
    await page.locator('a[href="/.trustgate/logout"]').first().click();
    await expect.poll(() => page.locator('h1').innerText()).toContain('Sign out?');
    await page.locator('[data-testid="sign-out"]').click();
    await expect.poll(() => page.locator('h1').innerText()).toContain('You are signed out');
    await page.goto(`${demo.gatewayUrl}/`);
    await expect.poll(() => page.title()).toContain('Trustgate development sign-in');
  });
});
