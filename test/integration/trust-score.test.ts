// The trust score through the real gateway: osquery results from a result-log file (and an Elasticsearch
// source on the real client with its mock) scored by the default profile, enforced, reported, warned.
import { appendFile, rename } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BrowserClient, signIn } from '../support/browser-client.ts';
import { startStack, type Stack } from '../support/start-stack.ts';
import { createElasticsearchMock, elasticsearchDocument, esErrors, searchedHostUuid, searchHits, type ElasticsearchMock } from '../support/elasticsearch-mock.ts';
import { loadResultsData, type ResultsHost } from '../../src/dev/osquery-results-data.ts';
import { snapshotLines, startOsqueryResultsWriter } from '../../src/dev/osquery-results-writer.ts';

const DEMO_RESULTS = fileURLToPath(new URL('../../config/demo-osquery-results.yaml', import.meta.url));
const DEVICE = { requireCritical: true, emptyResult: 'grace', emptyResultGrace: '24h' };
const HOUR = 3600_000;
type LogLine = Record<string, any>;

let hosts: ResultsHost[] = [];
beforeAll(async () => {
  hosts = await loadResultsData(DEMO_RESULTS);
});

function host(user: string): ResultsHost {
  const found = hosts.find((h) => h.username === user);
  if (!found) throw new Error(`no demo results for ${user}`);
  return found;
}

const lines = (user: string): string[] => snapshotLines(host(user), Date.now());

/** Carol after the fix: a local console session, a sane clock, a home network, all agents running. */
function carolFixed(): ResultsHost {
  const carol = host('carol');
  const alice = host('alice');
  return {
    ...carol,
    queries: {
      ...carol.queries,
      logged_in_users: [{ type: 'user', user: 'carol', tty: 'console', host: '', time: { ago: HOUR }, pid: 149 }],
      time: [{ $clock: true, local_timezone: 'Europe/London' }],
      users: [{ uid: 503, gid: 20, username: 'carol', uuid: '9A0C5B3E-4D71-4E26-8F19-C3B8A2D6E504' }],
      arp_cache: [{ address: '192.168.1.1', mac: 'f2:18:98:5c:0d:4e', interface: 'en0', permanent: 0 }],
      kernel_info: alice.queries.kernel_info ?? [],
      system_info: [{ hostname: 'carol-mbp.local', uuid: carol.uuid, hardware_vendor: 'Apple Inc.', hardware_model: 'Mac15,6', hardware_serial: 'C02GH3CARQ05', computer_name: "Carol's MacBook Pro", local_hostname: 'carol-mbp' }],
      processes: [
        { pid: 402, name: 'osqueryd', state: 'S', uid: 0 },
        { pid: 398, name: 'orbit', state: 'S', uid: 0 },
        { pid: 1502, name: 'fleet-desktop', state: 'S', uid: 0 },
      ],
    },
  };
}

async function signedIn(stack: Stack, user: string): Promise<BrowserClient> {
  const client = new BrowserClient();
  await signIn(client, `${stack.url}/`, user);
  return client;
}

/** The decision log line of the newest request for `path` (logged when the response closes). */
async function decisionFor(stack: Stack, path: string): Promise<LogLine> {
  await expect.poll(() => stack.decisions().some((d) => d.path === path)).toBe(true);
  return stack.decisions().findLast((d) => d.path === path) as LogLine;
}

function routes(upstream: string, extra: Record<string, unknown>[]): Record<string, unknown>[] {
  return [...extra, { name: 'open', host: '127.0.0.1', pathPrefix: '/', upstream, allowAnyAuthenticatedUser: true }];
}

describe('trust score from the result log', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      fleet: {},
      // A long cache: a low score served from it would keep carol out for an hour.
      trust: { lines: [...lines('alice'), ...lines('carol')], config: { cacheTtl: '1h' } },
      routes: (upstream) =>
        routes(upstream, [
          { name: 'trusted', host: '127.0.0.1', pathPrefix: '/trusted', upstream, allowedGroups: ['engineering', 'sales'], device: DEVICE, minTrustScore: { min: 70 } },
          { name: 'report', host: '127.0.0.1', pathPrefix: '/report', upstream, allowedGroups: ['engineering'], device: DEVICE, minTrustScore: { min: 70, mode: 'report-only' } },
          { name: 'warn', host: '127.0.0.1', pathPrefix: '/warn', upstream, allowedGroups: ['engineering'], device: DEVICE, minTrustScore: { min: 70, mode: 'warn', warnUntil: new Date(Date.now() + HOUR).toISOString() } },
        ]),
    });
  });
  afterAll(() => stack.close());

  test('alice, whose results match the profile, passes with her score and its explanation in the decision log', async () => {
    const alice = await signedIn(stack, 'alice');
    const response = await alice.request(`${stack.url}/trusted/alice-1`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('alice@example.com');
    const line = await decisionFor(stack, '/trusted/alice-1');
    expect(line).toMatchObject({ verdict: 'allow', route: 'trusted', user: 'alice@example.com' });
    expect(line.reasons).toEqual(expect.arrayContaining(['device-compliant', 'trust-sufficient']));
    expect(line.trustScore).toBeGreaterThanOrEqual(70);
    expect(line.trust).toMatchObject({ score: line.trustScore, shortfalls: [], missingTables: [] });
    expect(line.sources).toContain('result-log:fresh');
  });

  test('carol scores below: the page says the trust check failed without scoring details; JSON and the log say why', async () => {
    const carol = await signedIn(stack, 'carol');
    const page = await carol.request(`${stack.url}/trusted/carol-1`);
    expect(page.status).toBe(403);
    const html = await page.text();
    expect(html).toContain('Your device did not pass the trust check');
    const line = await decisionFor(stack, '/trusted/carol-1');
    expect(line).toMatchObject({ verdict: 'deny', reasons: ['trust-below-threshold'] });
    expect(line.trustScore).toBeLessThan(70);
    for (const detail of ['hardware_serial', 'arp_cache', 'logged_in_users', 'kernel_info', 'shortfall', '203.0.113.1', '/100']) expect(html).not.toContain(detail);
    expect(html).not.toMatch(new RegExp(`\\b${line.trustScore}\\b`));
    expect(line.trust.shortfalls).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ column: 'arp_cache.address', outcome: 'mismatch', actual: ['203.0.113.1'] }),
        expect.objectContaining({ column: 'logged_in_users.host', outcome: 'mismatch' }),
        expect.objectContaining({ column: 'processes.name', outcome: 'mismatch' }),
      ]),
    );
    expect(line.trust.missingTables).toEqual(expect.arrayContaining(['kernel_info: missing', 'system_info: missing']));

    const json = await carol.request(`${stack.url}/trusted/carol-2`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(403);
    expect(await json.json()).toMatchObject({ error: 'TG_ERR_TRUST_TOO_LOW', reasons: ['trust-below-threshold'] });
  });

  test('report-only lets carol through and logs the would-be denial', async () => {
    const carol = await signedIn(stack, 'carol');
    expect((await carol.request(`${stack.url}/report/x`)).status).toBe(200);
    const line = await decisionFor(stack, '/report/x');
    expect(line.verdict).toBe('allow');
    expect(line.reasons).toEqual(expect.arrayContaining(['trust-report-only', 'trust-below-threshold']));
    expect(line.trustScore).toBeLessThan(70);
  });

  test('warn shows the device-warning page naming the trust check until Continue, then lets carol through', async () => {
    const carol = await signedIn(stack, 'carol');
    const notice = await carol.request(`${stack.url}/warn/page`);
    expect(notice.status).toBe(200);
    const html = await notice.text();
    expect(html).toContain('Your device needs attention');
    expect(html).toContain('Device trust check');
    expect(html).not.toContain('arp_cache');
    expect(html).not.toContain('could not be verified');
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const body = new URLSearchParams({ csrf, return: `${stack.url}/warn/page` }).toString();
    const ack = await carol.request(`${stack.url}/.trustgate/acknowledge`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(ack.status).toBe(302);
    const through = await carol.request(`${stack.url}/warn/page`);
    expect(through.status).toBe(200);
    expect(await through.text()).not.toContain('Your device needs attention');
    expect((await decisionFor(stack, '/warn/page')).reasons).toEqual(expect.arrayContaining(['trust-warn', 'trust-below-threshold']));
  });

  test('a score below the threshold is never served from cache: better results let carol in at once', async () => {
    const carol = await signedIn(stack, 'carol');
    expect((await carol.request(`${stack.url}/trusted/before-fix`)).status).toBe(403);
    // Strictly newer than what the stack wrote at start (results of the same second keep the first).
    await appendFile(stack.resultLog as string, `${snapshotLines(carolFixed(), Date.now() + 2_000).join('\n')}\n`);
    const source = stack.gateway.runtime().trust?.source;
    await expect.poll(async () => (await source?.latest({ hostUuid: host('carol').uuid }))?.get('processes')?.rows.length, { timeout: 10_000 }).toBe(3);

    expect((await carol.request(`${stack.url}/trusted/after-fix`)).status).toBe(200);
    const line = await decisionFor(stack, '/trusted/after-fix');
    expect(line.trustScore).toBeGreaterThanOrEqual(70);
    expect(line.sources).toContain('result-log:fresh');
    // A passing score is reused until trust.cacheTtl.
    expect((await carol.request(`${stack.url}/trusted/cached`)).status).toBe(200);
    expect((await decisionFor(stack, '/trusted/cached')).sources).toContain('result-log:cache');
  });

  test('a rotated result log (renamed, a new file started) is followed: new results are picked up', async () => {
    const dave = await signedIn(stack, 'dave');
    expect((await dave.request(`${stack.url}/trusted/no-results`)).status).toBe(403);
    expect((await decisionFor(stack, '/trusted/no-results')).trust.missingTables).toContain('processes: missing');

    const file = stack.resultLog as string;
    await rename(file, `${file}.1`);
    const writer = await startOsqueryResultsWriter({ file, hosts: [host('dave')], intervalMs: HOUR });
    await writer.close();
    const source = stack.gateway.runtime().trust?.source;
    await expect.poll(async () => (await source?.latest({ hostUuid: host('dave').uuid }))?.size, { timeout: 10_000 }).toBe(8);

    expect((await dave.request(`${stack.url}/trusted/rotated`)).status).toBe(200);
    expect((await decisionFor(stack, '/trusted/rotated')).trustScore).toBeGreaterThanOrEqual(70);
  });
});

describe('trust score from Elasticsearch (real client, mocked connection)', () => {
  let stack: Stack;
  let es: ElasticsearchMock;
  const documents = (user: string) => lines(user).map(elasticsearchDocument);

  beforeAll(async () => {
    es = createElasticsearchMock();
    stack = await startStack({
      fleet: {},
      trust: {
        config: { source: { kind: 'elasticsearch', node: 'http://127.0.0.1:9200', timeout: '300ms' } },
        resultsSource: es.source({ timeoutMs: 300 }),
      },
      routes: (upstream) =>
        routes(upstream, [
          { name: 'es', host: '127.0.0.1', pathPrefix: '/es', upstream, allowedGroups: ['engineering', 'sales'], device: DEVICE, minTrustScore: { min: 70 } },
          { name: 'es-open', host: '127.0.0.1', pathPrefix: '/lenient', upstream, allowedGroups: ['engineering', 'sales'], device: DEVICE, minTrustScore: { min: 70, onError: 'allow' } },
        ]),
    });
  });
  afterAll(() => stack.close());

  test('scores the documents of the identified host: alice passes, carol is refused', async () => {
    const byHost = new Map([host('alice'), host('carol')].map((h) => [h.uuid, documents(h.username)]));
    es.answer((params) => searchHits(byHost.get(searchedHostUuid(params) ?? '') ?? []));
    const alice = await signedIn(stack, 'alice');
    expect((await alice.request(`${stack.url}/es/alice`)).status).toBe(200);
    const line = await decisionFor(stack, '/es/alice');
    expect(line.trustScore).toBeGreaterThanOrEqual(70);
    expect(line.sources).toContain('elasticsearch:fresh');
    expect(es.requests.map(searchedHostUuid)).toContain(host('alice').uuid);

    const carol = await signedIn(stack, 'carol');
    const denied = await carol.request(`${stack.url}/es/carol`, { headers: { accept: 'application/json' } });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: 'TG_ERR_TRUST_TOO_LOW', reasons: ['trust-below-threshold'] });
    expect((await decisionFor(stack, '/es/carol')).trust.shortfalls.length).toBeGreaterThan(0);
  });

  test('Elasticsearch answering 500: fail closed (503, trust-unavailable), or allowed where onError is allow', async () => {
    es.answer(() => new esErrors.ResponseError({ body: { error: { type: 'search_phase_execution_exception' }, status: 500 }, statusCode: 500, headers: {}, warnings: null, meta: {} as never }));
    const dave = await signedIn(stack, 'dave');
    const closed = await dave.request(`${stack.url}/es/down`, { headers: { accept: 'application/json' } });
    expect(closed.status).toBe(503);
    expect(await closed.json()).toMatchObject({ reasons: ['trust-unavailable'] });
    const page = await dave.request(`${stack.url}/es/down-page`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('We could not check your device');

    expect((await dave.request(`${stack.url}/lenient/down`)).status).toBe(200);
    const line = await decisionFor(stack, '/lenient/down');
    expect(line.reasons).toEqual(expect.arrayContaining(['trust-error-allowed', 'trust-unavailable']));
    expect(stack.logs.some((l) => l.msg === 'trust score unavailable' && l.code === 'TG_ERR_RESULTS_BAD_RESPONSE')).toBe(true);
  });

  test('Elasticsearch slower than the source timeout: 503, not a hanging request', async () => {
    es.answer((params) => searchHits(documents(hosts.find((h) => h.uuid === searchedHostUuid(params))?.username ?? 'dave')));
    es.slow(120_000);
    try {
      const dave = await signedIn(stack, 'dave');
      // The signal only turns a hang into a failure here; the gateway must answer long before.
      const response = await dave.request(`${stack.url}/es/slow`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(20_000) });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ reasons: ['trust-unavailable'] });
      expect(stack.logs.some((l) => l.msg === 'trust score unavailable' && l.code === 'TG_ERR_RESULTS_TIMEOUT')).toBe(true);
    } finally {
      es.slow(0);
    }
  });
});
