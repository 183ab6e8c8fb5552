// Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core (a
// test tool's own browser download cannot work on these machines), and the demo config they run.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startDemo, type Demo } from '../../src/dev/start-demo.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const DEMO_CONFIG = fileURLToPath(new URL('../../config/trustgate.yaml', import.meta.url));
// Flags from the machine notes: no sandbox as root, and no background networking on a closed network.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (.ci/run does)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Runs the demo (on free ports) and a browser for the tests of the surrounding describe block; call
 * `get()` inside a test.
 */
export function demoInBrowser(): { get(): { demo: Demo; browser: Browser } } {
  let demo: Demo | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    demo = await startDemo(DEMO_CONFIG, { quiet: true, ephemeralPorts: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });
  return {
    get() {
      if (!demo || !browser) throw new Error('the demo or the browser did not start');
      return { demo, browser };
    },
  };
}
