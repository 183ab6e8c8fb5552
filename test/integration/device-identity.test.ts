// Which device a request comes from, through the real gateway: an mTLS client certificate beats the
// email mapping, a trusted proxy's forwarded certificate counts only from that proxy and never reaches the
// upstream, requireOwner ties the device to the user, bad device config is refused, and metrics are served.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load-config.ts';
import type { EchoResponse } from '../../src/dev/demo-app.ts';
import { isGatewayError } from '../../src/errors.ts';
import { BrowserClient, signIn } from '../support/browser-client.ts';
import { createTestPki, writeTestPki, type PemPair, type TestPki } from '../support/certificates.ts';
import { startStack, TEST_SECRET, type Stack, type StackOptions } from '../support/start-stack.ts';
import { tlsBrowser, type TlsBrowser } from '../support/tls-client.ts';

// The demo Fleet data (config/fleet-simulator.yaml): alice's laptop passes, bob's fails the critical
// "Disk encryption enabled" policy.
const ALICE_DEVICE = '8D2C3A9E-5F41-4B7A-9C21-6E3F0B1D4A57';
const BOB_DEVICE = '3F6B8E14-72C9-4D0A-B5E8-91A4C7D2E063';
const BOB_HOSTNAME = 'bob-macbook-air.local';
const JSON_ACCEPT = { headers: { accept: 'application/json' } };

let pki: TestPki;
let pkiDir: string;
let files: Record<string, string>;
let bobCertificate: PemPair;
const browsers: TlsBrowser[] = [];

beforeAll(async () => {
  // pki.device is alice's laptop; pki.otherCaDevice names the same UUID but comes from a CA nobody trusts.
  pki = await createTestPki(ALICE_DEVICE);
  ({ dir: pkiDir, files } = await writeTestPki(pki));
  bobCertificate = await pki.issueDevice(BOB_DEVICE);
});

afterAll(async () => {
  await Promise.all(browsers.map((b) => b.close()));
  await rm(pkiDir, { recursive: true, force: true });
});

function file(name: string): string {
  const path = files[name];
  if (!path) throw new Error(`no test PKI file ${name}`);
  return path;
}

function mtlsStack(options: StackOptions): Promise<Stack> {
  return startStack({
    tls: { certFile: file('server.crt'), keyFile: file('server.key'), clientCaFile: file('device-ca.crt'), requestClientCert: true },
    fleet: {},
    ...options,
  });
}

/** Signs `user` in over HTTPS, presenting `certificate` (if any) on every connection. */
async function overTls(stack: Stack, user: string, certificate?: PemPair): Promise<BrowserClient> {
  const browser = tlsBrowser(pki.serverCa.cert, certificate);
  browsers.push(browser);
  await signIn(browser.client, `${stack.url}/`, user);
  return browser.client;
}

async function overHttp(stack: Stack, user: string): Promise<BrowserClient> {
  const client = new BrowserClient();
  await signIn(client, `${stack.url}/`, user);
  return client;
}

async function echo(response: Response): Promise<EchoResponse> {
  expect(response.status).toBe(200);
  return (await response.json()) as EchoResponse;
}

interface DeniedBody {
  reasons: string[];
  devices: { hostname: string }[];
}

async function denied(response: Response): Promise<DeniedBody> {
  expect(response.status).toBe(403);
  return (await response.json()) as DeniedBody;
}

/** Header names exactly as the upstream received them. */
function rawHeaderNames(body: EchoResponse): string[] {
  return body.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
}

describe('device certificate on the TLS handshake (mTLS)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await mtlsStack({ route: { device: { requireCritical: true } }, deviceIdentity: { methods: ['certificate', 'email'] } });
  });
  afterAll(() => stack.close());

  test('the session cookie set on the HTTPS listener is Secure', async () => {
    const bob = await overTls(stack, 'bob', pki.device);
    expect(stack.url).toMatch(/^https:/);
    expect(bob.cookie('trustgate_session')?.raw).toMatch(/;\s*Secure(;|$)/i);
  });

  test('the certificate wins over the email mapping: bob on alice\'s laptop is let in as alice\'s device', async () => {
    const bob = await overTls(stack, 'bob', pki.device);
    const body = await echo(await bob.request(`${stack.url}/echo/cert`, JSON_ACCEPT));
    expect(body.headers['x-trustgate-email']).toBe('bob@example.com');
    expect(body.headers['x-trustgate-device']).toBe(ALICE_DEVICE);
    expect(body.headers['x-trustgate-posture']).toBe('compliant');
    expect(stack.decisions().at(-1)).toMatchObject({ user: 'bob@example.com', verdict: 'allow', reasons: ['user-allowed', 'device-compliant'] });
  });

  test('bob on his own laptop is refused for the failing policy', async () => {
    const bob = await overTls(stack, 'bob', bobCertificate);
    const body = await denied(await bob.request(`${stack.url}/echo/own`, JSON_ACCEPT));
    expect(body.reasons).toEqual(['policy-failed']);
    expect(body.devices.map((d) => d.hostname)).toEqual([BOB_HOSTNAME]);
  });

  test('a certificate from an unrelated CA is ignored and the email mapping decides', async () => {
    // It names alice's laptop; were it believed, bob would be let in.
    const bob = await overTls(stack, 'bob', pki.otherCaDevice);
    const body = await denied(await bob.request(`${stack.url}/echo/other-ca`, JSON_ACCEPT));
    expect(body.devices.map((d) => d.hostname)).toEqual([BOB_HOSTNAME]);
    expect(stack.decisions().at(-1)).toMatchObject({ user: 'bob@example.com', verdict: 'deny', reasons: ['policy-failed'] });
  });
});

describe('certificate as the only identification method', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await mtlsStack({ route: { device: { requireCritical: true } }, deviceIdentity: { methods: ['certificate'] } });
  });
  afterAll(() => stack.close());

  test('without a client certificate the device is unknown, even though alice has a device in Fleet', async () => {
    const alice = await overTls(stack, 'alice');
    const page = await alice.request(`${stack.url}/`);
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('We could not tell which device you are on');
    expect(stack.decisions().at(-1)?.reasons).toEqual(['device-unknown']);
  });

  test('with her certificate alice gets in', async () => {
    const alice = await overTls(stack, 'alice', pki.device);
    expect((await echo(await alice.request(`${stack.url}/echo/x`, JSON_ACCEPT))).headers['x-trustgate-device']).toBe(ALICE_DEVICE);
  });
});

describe('device.identifyBy: certificate — only a client certificate identifies the device', () => {
  // Every method is configured; "/" demands a certificate, "/mapped" accepts the email mapping. alice's
  // email-mapped laptop is compliant, so "/mapped" lets her cookie in from anywhere — "/" must not.
  let stack: Stack;

  beforeAll(async () => {
    stack = await mtlsStack({
      routes: (upstream) => [
        { name: 'app', host: '127.0.0.1', upstream, allowedGroups: ['engineering'], device: { requireCritical: true, identifyBy: 'certificate' }, breakGlass: { allowed: true } },
        { name: 'mapped', host: '127.0.0.1', pathPrefix: '/mapped', upstream, allowedGroups: ['engineering'], device: { requireCritical: true } },
      ],
      trustedProxies: ['127.0.0.1'],
      deviceIdentity: { methods: ['certificate', 'header', 'email'], certificateCaFile: file('device-ca.crt') },
    });
  });
  afterAll(() => stack.close());

  /** alice's cookie, copied from her certified laptop into a browser that has no device certificate. */
  async function stolenCookie(): Promise<BrowserClient> {
    const laptop = await overTls(stack, 'alice', pki.device);
    const thief = tlsBrowser(pki.serverCa.cert);
    browsers.push(thief);
    thief.client.setCookie('127.0.0.1', 'trustgate_session', laptop.cookie('trustgate_session')?.value ?? '');
    return thief.client;
  }

  test('the email mapping would let the copied cookie in on a route that accepts it', async () => {
    const thief = await stolenCookie();
    const body = await echo(await thief.request(`${stack.url}/mapped/x`, JSON_ACCEPT));
    expect(body.headers['x-trustgate-email']).toBe('alice@example.com');
    expect(body.headers['x-trustgate-posture']).toBe('compliant');
  });

  test('without a certificate the cookie is refused with device-certificate-required, as JSON and as a page', async () => {
    const thief = await stolenCookie();
    const body = await denied(await thief.request(`${stack.url}/echo/x`, JSON_ACCEPT));
    expect(body.reasons).toEqual(['device-certificate-required']);
    expect(stack.decisions().at(-1)).toMatchObject({ route: 'app', user: 'alice@example.com', verdict: 'deny', reasons: ['device-certificate-required'] });
    const page = await thief.request(`${stack.url}/echo/x`);
    expect(page.status).toBe(403);
    const html = await page.text();
    expect(html).toContain('needs your company device&#39;s certificate');
    // Break glass is allowed on the route, but by default it cannot stand in for the missing certificate.
    expect(html).not.toContain('/.trustgate/break-glass');
    const form = await thief.request(`${stack.url}/.trustgate/break-glass?return=${encodeURIComponent(`${stack.url}/echo/x`)}`, JSON_ACCEPT);
    expect(form.status).toBe(403);
    expect(await form.json()).toMatchObject({ error: 'TG_ERR_FORBIDDEN', reasons: ['device-certificate-required'] });
  });

  test('an untrusted certificate does not count, and the email mapping is not used instead', async () => {
    const browser = tlsBrowser(pki.serverCa.cert, pki.otherCaDevice);
    browsers.push(browser);
    await signIn(browser.client, `${stack.url}/mapped/`, 'alice');
    const body = await denied(await browser.client.request(`${stack.url}/echo/other-ca`, JSON_ACCEPT));
    expect(body.reasons).toEqual(['device-certificate-required']);
  });

  test('with the certificate on the TLS handshake alice gets in', async () => {
    const alice = await overTls(stack, 'alice', pki.device);
    const body = await echo(await alice.request(`${stack.url}/echo/x`, JSON_ACCEPT));
    expect(body.headers['x-trustgate-device']).toBe(ALICE_DEVICE);
    expect(stack.decisions().at(-1)).toMatchObject({ route: 'app', verdict: 'allow', reasons: ['user-allowed', 'device-compliant'] });
  });

  test("with the certificate forwarded by the trusted front proxy alice gets in", async () => {
    const thief = await stolenCookie();
    const body = await echo(await thief.request(`${stack.url}/echo/x`, { headers: { accept: 'application/json', 'x-client-cert': encodeURIComponent(pki.device.cert) } }));
    expect(body.headers['x-trustgate-device']).toBe(ALICE_DEVICE);
  });
});

describe('requireOwner: the certified device must be mapped to the signed-in user', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await mtlsStack({ route: { device: { requireCritical: true, requireOwner: true } }, deviceIdentity: { methods: ['certificate', 'email'] } });
  });
  afterAll(() => stack.close());

  test('bob on alice\'s laptop is refused with device-not-owned', async () => {
    const bob = await overTls(stack, 'bob', pki.device);
    const page = await bob.request(`${stack.url}/docs`);
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('This device is not registered to you');
    expect(stack.decisions().at(-1)).toMatchObject({ user: 'bob@example.com', verdict: 'deny', reasons: ['device-not-owned'] });
    const body = await denied(await bob.request(`${stack.url}/docs`, JSON_ACCEPT));
    expect(body.reasons).toEqual(['device-not-owned']);
  });

  test('alice on her own laptop gets in', async () => {
    const alice = await overTls(stack, 'alice', pki.device);
    const body = await echo(await alice.request(`${stack.url}/echo/mine`, JSON_ACCEPT));
    expect(body.headers['x-trustgate-device']).toBe(ALICE_DEVICE);
    expect(stack.decisions().at(-1)?.reasons).toEqual(['user-allowed', 'device-compliant']);
  });

  test('a refused mapping is never served from cache: once Fleet maps the laptop to bob, he gets in at once', async () => {
    const fleet = stack.fleet;
    const laptop = fleet?.state.hosts.get(1);
    if (!fleet || laptop?.data.uuid !== ALICE_DEVICE) throw new Error("the demo Fleet data has alice's laptop as host 1");
    const alice = await overTls(stack, 'alice', pki.device);
    const bob = await overTls(stack, 'bob', pki.device);
    // alice's request leaves the laptop's mapping (alice only) fresh in the posture cache.
    expect((await alice.request(`${stack.url}/docs`, JSON_ACCEPT)).status).toBe(200);
    const asked = fleet.state.stats.requestCount.getDeviceMapping;
    expect((await denied(await bob.request(`${stack.url}/docs`, JSON_ACCEPT))).reasons).toEqual(['device-not-owned']);
    expect(fleet.state.stats.requestCount.getDeviceMapping).toBe(asked + 1);
    laptop.data.emails.push({ email: 'bob@example.com', source: 'custom' });
    const body = await echo(await bob.request(`${stack.url}/echo/now-mine`, JSON_ACCEPT));
    expect(body.headers['x-trustgate-device']).toBe(ALICE_DEVICE);
    expect(stack.decisions().at(-1)).toMatchObject({ user: 'bob@example.com', verdict: 'allow', reasons: ['user-allowed', 'device-compliant'] });
  });
});

describe('device certificate forwarded in a header by a TLS-terminating proxy', () => {
  // As nginx's $ssl_client_escaped_cert.
  const forwarded = (pair: PemPair) => ({ headers: { accept: 'application/json', 'x-client-cert': encodeURIComponent(pair.cert) } });
  const deviceIdentity = () => ({ methods: ['header', 'email'], certificateCaFile: file('device-ca.crt') });

  describe('from a trusted proxy', () => {
    let stack: Stack;

    beforeAll(async () => {
      stack = await startStack({ fleet: {}, trustedProxies: ['127.0.0.1'], route: { device: { requireCritical: true } }, deviceIdentity: deviceIdentity() });
    });
    afterAll(() => stack.close());

    test('identifies the device, and the header is consumed rather than passed upstream', async () => {
      const bob = await overHttp(stack, 'bob');
      const body = await echo(await bob.request(`${stack.url}/echo/forwarded`, forwarded(pki.device)));
      expect(body.headers['x-trustgate-email']).toBe('bob@example.com');
      expect(body.headers['x-trustgate-device']).toBe(ALICE_DEVICE);
      expect(rawHeaderNames(body)).not.toContain('x-client-cert');
    });

    test('an expired forwarded certificate is not used: the email mapping finds bob\'s failing laptop', async () => {
      const bob = await overHttp(stack, 'bob');
      const body = await denied(await bob.request(`${stack.url}/echo/expired`, forwarded(pki.expiredDevice)));
      expect(body.reasons).toEqual(['policy-failed']);
      expect(body.devices.map((d) => d.hostname)).toEqual([BOB_HOSTNAME]);
    });

    test('the session cookie on a plain-http loopback listener is not Secure', async () => {
      const bob = await overHttp(stack, 'bob');
      expect(bob.cookie('trustgate_session')?.raw).toBeDefined();
      expect(bob.cookie('trustgate_session')?.raw).not.toMatch(/Secure/i);
    });
  });

  describe('from a client that is not a trusted proxy', () => {
    let stack: Stack;

    beforeAll(async () => {
      stack = await startStack({ fleet: {}, route: { device: { requireCritical: true } }, deviceIdentity: deviceIdentity() });
    });
    afterAll(() => stack.close());

    test('the header is ignored: bob is judged by his own laptop', async () => {
      const bob = await overHttp(stack, 'bob');
      const body = await denied(await bob.request(`${stack.url}/echo/spoofed`, forwarded(pki.device)));
      expect(body.reasons).toEqual(['policy-failed']);
      expect(body.devices.map((d) => d.hostname)).toEqual([BOB_HOSTNAME]);
    });

    test('the header never reaches the upstream, in any spelling a backend could fold into it', async () => {
      const alice = await overHttp(stack, 'alice');
      const init = forwarded(pki.device);
      const headers = { ...init.headers, x_client_cert: init.headers['x-client-cert'] };
      const body = await echo(await alice.request(`${stack.url}/echo/spoofed`, { headers }));
      expect(body.headers['x-trustgate-device']).toBe(ALICE_DEVICE);
      expect(rawHeaderNames(body)).not.toContain('x-client-cert');
      expect(rawHeaderNames(body)).not.toContain('x_client_cert');
      expect(rawHeaderNames(body)).toContain('x-trustgate-email');
    });
  });
});

describe('device identity configuration errors', () => {
  function baseConfig(): Record<string, unknown> {
    return {
      listeners: [{ port: 0 }],
      oidc: { issuer: 'http://127.0.0.1:9/', clientId: 'trustgate', clientSecret: 'secret' },
      session: { secrets: [TEST_SECRET] },
      fleet: { url: 'http://127.0.0.1:9', apiToken: 'token' },
      routes: [{ name: 'app', host: 'app.example.test', upstream: 'http://127.0.0.1:9', allowedGroups: ['engineering'], device: { requireCritical: true } }],
    };
  }

  function problemsOf(raw: Record<string, unknown>): { path: string; message: string }[] {
    try {
      parseConfigText(stringify(raw), 'test config', {});
    } catch (error) {
      if (isGatewayError(error) && error.code === 'TG_ERR_CONFIG_INVALID') return error.details?.['problems'] as { path: string; message: string }[];
      throw error;
    }
    throw new Error('config was accepted');
  }

  test('the base config is valid', () => {
    expect(parseConfigText(stringify(baseConfig()), 'test config', {}).routes[0]?.device?.requireCritical).toBe(true);
  });

  test('a sanPattern without a uuid group is reported at its path', () => {
    const raw = { ...baseConfig(), deviceIdentity: { sanPattern: '^urn:device:apple:uuid:([0-9A-F-]{36})$' } };
    expect(problemsOf(raw)).toEqual([{ path: 'deviceIdentity.sanPattern', message: expect.stringContaining('(?<uuid>') }]);
  });

  test('a device rule without a fleet section is reported at the route', () => {
    const { fleet: _fleet, ...raw } = baseConfig();
    expect(problemsOf(raw)).toEqual([{ path: 'routes[0].device', message: expect.stringContaining('fleet section') }]);
  });

  test('mode "warn" without warnUntil is reported at warnUntil', () => {
    const raw = baseConfig();
    raw['routes'] = [{ name: 'app', host: 'app.example.test', upstream: 'http://127.0.0.1:9', allowedGroups: ['engineering'], device: { mode: 'warn' } }];
    expect(problemsOf(raw)).toEqual([{ path: 'routes[0].device.warnUntil', message: expect.stringContaining('deadline') }]);
  });

  test('identifyBy "certificate" without a certificate method configured is reported at identifyBy', () => {
    const raw: Record<string, unknown> = { ...baseConfig(), deviceIdentity: { methods: ['email'] } };
    raw['routes'] = [{ name: 'app', host: 'app.example.test', upstream: 'http://127.0.0.1:9', allowedGroups: ['engineering'], device: { identifyBy: 'certificate' } }];
    expect(problemsOf(raw)).toEqual([{ path: 'routes[0].device.identifyBy', message: expect.stringContaining('deviceIdentity.methods') }]);
  });

  test('all of them are reported at once', () => {
    const { fleet: _fleet, ...raw } = baseConfig();
    raw['deviceIdentity'] = { sanPattern: '^urn:(?<id>.+)$' };
    raw['routes'] = [{ name: 'app', host: 'app.example.test', upstream: 'http://127.0.0.1:9', allowedGroups: ['engineering'], device: { mode: 'warn' } }];
    expect(problemsOf(raw).map((p) => p.path).sort()).toEqual(['deviceIdentity.sanPattern', 'routes[0].device', 'routes[0].device.warnUntil']);
  });
});

describe('metrics endpoint', () => {
  function counter(text: string, name: string): number {
    const match = new RegExp(`^${name} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
    if (!match?.[1]) throw new Error(`${name} not in metrics:\n${text.slice(0, 500)}`);
    return Number(match[1]);
  }

  describe('allowed from loopback (the default)', () => {
    let stack: Stack;

    beforeAll(async () => {
      stack = await startStack({ fleet: {}, route: { device: { requireCritical: true } } });
    });
    afterAll(() => stack.close());

    test('serves Prometheus text whose cache-hit counter grows with cached requests', async () => {
      const scrape = async (): Promise<string> => {
        const response = await fetch(`${stack.url}/.trustgate/metrics`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
        return response.text();
      };
      const alice = await overHttp(stack, 'alice');
      expect((await alice.request(`${stack.url}/echo/warm`)).status).toBe(200);
      const before = await scrape();
      expect(before).toContain('# TYPE trustgate_posture_cache_hits_total counter');
      for (let i = 0; i < 3; i++) expect((await alice.request(`${stack.url}/echo/cached`)).status).toBe(200);
      const after = await scrape();
      expect(counter(after, 'trustgate_posture_cache_hits_total')).toBeGreaterThanOrEqual(counter(before, 'trustgate_posture_cache_hits_total') + 3);
    });
  });

  describe('restricted to another network', () => {
    let stack: Stack;

    beforeAll(async () => {
      stack = await startStack({ metrics: { allowFrom: ['10.0.0.0/8'] } });
    });
    afterAll(() => stack.close());

    test('answers 403 to loopback', async () => {
      const response = await fetch(`${stack.url}/.trustgate/metrics`);
      expect(response.status).toBe(403);
      expect(await response.text()).not.toContain('trustgate_posture_cache_hits_total');
    });
  });
});
