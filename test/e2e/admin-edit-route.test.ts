// Browser test: alice edits a route in the admin console of the running demo, on its own host
// (admin.localhost, which Chromium resolves to loopback itself; headless Chromium): ticks a
// Fleet policy, previews the diff and impact, saves, and sees the notice and the new rule in the list.
import { describe, expect, test } from 'vitest';
import { demoInBrowser } from '../support/chromium.ts';

describe('admin console in a real browser', () => {
  const env = demoInBrowser();

  test('alice requires the firewall policy on the demo app: preview, save, notice', async () => {
    const { demo, browser } = env.get();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${demo.adminUrl}/.trustgate/admin/`);
    await expect.poll(() => page.title()).toContain('Trustgate development sign-in');
    await page.locator('button[name="user"][value="alice"]').click();
    await page.waitForURL(`${demo.adminUrl}/.trustgate/admin/`);
    const row = page.locator('[data-testid="route"][data-route="demo-app"]');
    expect(await row.innerText()).not.toContain('Firewall enabled');

    await row.locator('[data-testid="edit"]').click();
    await page.waitForURL(/\/\.trustgate\/admin\/routes\/edit\?name=demo-app$/);
    const firewall = page.getByLabel(/#3 Firewall enabled/);
    expect(await firewall.isChecked()).toBe(false);
    // The config names its policies; those boxes come up ticked.
    expect(await page.getByLabel(/#2 Screen lock enabled/).isChecked()).toBe(true);
    await firewall.check();
    await page.screenshot({ path: 'test-results/admin-route-form.png', fullPage: true });
    await page.locator('[data-testid="preview"]').click();

    await page.waitForURL(/\/routes\/preview$/);
    expect(await page.locator('h1').innerText()).toContain('Preview: demo-app');
    expect(await page.locator('pre.diff .add').allInnerTexts()).toContainEqual(expect.stringContaining('Firewall enabled'));
    expect(await page.locator('[data-testid="policy-row"][data-policy="3"]').innerText()).toContain('Firewall enabled');
    await page.screenshot({ path: 'test-results/admin-preview.png', fullPage: true });

    await page.locator('[data-testid="comment"]').fill('Firewall on for the demo app');
    await page.locator('[data-testid="save"]').click();
    await page.waitForURL(/\/\.trustgate\/admin\/\?done=saved/);
    expect(await page.locator('[data-testid="notice"]').innerText()).toContain('Saved');
    expect(await page.locator('[data-testid="route"][data-route="demo-app"]').innerText()).toContain('Firewall enabled');

    await page.goto(`${demo.adminUrl}/.trustgate/admin/history`);
    expect(await page.locator('[data-testid="history"]').innerText()).toContain('Firewall on for the demo app');
    // Decisions are made on the route hosts: alice opens the app (her IdP session signs her in there too).
    await page.goto(`${demo.gatewayUrl}/`);
    await page.waitForURL(`${demo.gatewayUrl}/`);
    await page.goto(`${demo.adminUrl}/.trustgate/admin/decisions`);
    expect(await page.locator('[data-testid="decision"]').count()).toBeGreaterThan(0);
    await page.screenshot({ path: 'test-results/admin-decisions.png', fullPage: true });
  });
});
