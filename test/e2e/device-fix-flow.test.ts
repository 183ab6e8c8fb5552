// Browser test: bob is denied because FileVault is off, "fixes" it on the Fleet simulator's control page,
// presses "I fixed it — check again" on the gateway's deny page and lands on the demo app.
import { describe, expect, test } from 'vitest';
import { demoInBrowser } from '../support/chromium.ts';

describe('fixing a failing device in a real browser', () => {
  const env = demoInBrowser();

  test('bob turns on FileVault, checks again and gets in', async () => {
    const { demo, browser } = env.get();
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const gateway = await context.newPage();
    await gateway.goto(`${demo.gatewayUrl}/`);
    await expect.poll(() => gateway.title()).toContain('Trustgate development sign-in');
    await gateway.locator('button[name="user"][value="bob"]').click();
    await gateway.waitForURL(`${demo.gatewayUrl}/`);

    // The deny page names the failing critical policy and how to fix it.
    await expect.poll(() => gateway.locator('[data-testid="deny-heading"]').count(), { timeout: 5_000 }).toBe(1);
    const failing = gateway.locator('[data-testid="failing-policy"]', { hasText: 'Disk encryption enabled' });
    expect(await failing.count()).toBe(1);
    expect(await failing.innerText()).toContain('critical');
    expect(await failing.innerText()).toContain('Turn on FileVault');
    expect(await failing.innerText()).toContain('Privacy & Security');
    expect(await gateway.locator('body').innerText()).not.toContain('Trustgate demo app');
    await gateway.screenshot({ path: 'test-results/device-denied.png', fullPage: true });

    // Bob turns FileVault on: on the simulator page, as the user fixing the device.
    const simulator = await context.newPage();
    await simulator.goto(`${demo.fleetUrl}/_sim/`);
    expect(await simulator.title()).toBe('Fleet simulator');
    const bobDisk = simulator.locator('tr[data-host-id="2"][data-policy-id="1"]');
    expect(await bobDisk.locator('[data-testid="current-result"]').innerText()).toBe('fail');
    await bobDisk.getByRole('button', { name: 'Mark fixed (pending until refetch)' }).click();
    await expect.poll(() => bobDisk.locator('[data-testid="pending-result"]').innerText(), { timeout: 5_000 }).toBe('pass');
    expect(await bobDisk.locator('[data-testid="current-result"]').innerText()).toBe('fail');
    await simulator.screenshot({ path: 'test-results/fleet-simulator.png', fullPage: true });

    // Back on the deny page: check again asks Fleet to refetch, waits for the agent and lets bob in.
    // The deny page is already at `/`, so wait for the recheck's own answer, not just for the URL.
    await gateway.bringToFront();
    const [recheck] = await Promise.all([
      gateway.waitForResponse((response) => response.url() === `${demo.gatewayUrl}/.trustgate/recheck`, { timeout: 25_000 }),
      gateway.locator('[data-testid="recheck"]').click(),
    ]);
    expect(recheck.status()).toBe(302);
    expect(recheck.headers()['location']).toBe(`${demo.gatewayUrl}/`);
    await gateway.waitForURL(`${demo.gatewayUrl}/`);
    await expect.poll(() => gateway.locator('body').innerText(), { timeout: 10_000 }).toContain('Trustgate demo app');
    expect(await gateway.locator('body').innerText()).toContain('bob@example.com');

    // The agent's check-in made the fix current on the simulator too.
    await simulator.reload();
    expect(await bobDisk.locator('[data-testid="current-result"]').innerText()).toBe('pass');
    expect(await bobDisk.locator('[data-testid="pending-result"]').innerText()).toBe('—');
    await context.close();
  });
});
