// The embedded demo's trust score end to end: its results writer feeds the result log, alice's MacBook
// reaches /reports, carol's laptop is turned away there with the trust message but still reaches /.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startDemo, type Demo } from '../../src/dev/start-demo.ts';
import { BrowserClient, signIn } from '../support/browser-client.ts';

const DEMO_CONFIG = fileURLToPath(new URL('../../config/trustgate.yaml', import.meta.url));

describe('demo trust score', () => {
  let demo: Demo;

  beforeAll(async () => {
    demo = await startDemo(DEMO_CONFIG, { quiet: true, ephemeralPorts: true });
  });
  afterAll(() => demo?.close());

  async function signedIn(user: string): Promise<BrowserClient> {
    const client = new BrowserClient();
    const { response } = await signIn(client, `${demo.gatewayUrl}/`, user);
    expect(response.status).toBe(200);
    return client;
  }

  test('alice reaches /reports', async () => {
    const alice = await signedIn('alice');
    const response = await alice.request(`${demo.gatewayUrl}/reports/q1`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('alice@example.com');
  });

  test('carol is denied /reports with the trust message, and still reaches /', async () => {
    const carol = await signedIn('carol');
    const denied = await carol.request(`${demo.gatewayUrl}/reports/q1`);
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('Your device did not pass the trust check');
    const json = await carol.request(`${demo.gatewayUrl}/reports/q1`, { headers: { accept: 'application/json' } });
    expect(await json.json()).toMatchObject({ error: 'TG_ERR_TRUST_TOO_LOW', reasons: ['trust-below-threshold'] });
    expect((await carol.request(`${demo.gatewayUrl}/`)).status).toBe(200);
  });
});
