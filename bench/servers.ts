// Benchmark targets in one child process: a tiny upstream, a bare http-proxy forwarder in front of it,
// a Fleet simulator, and the Trustgate gateway in front of the upstream with a device-posture route.
// Prints the URLs and session cookies as one JSON line on stdout, then serves until killed.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import httpProxy from 'http-proxy';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { parseConfigText } from '../src/config/load-config.ts';
import { createGateway } from '../src/gateway.ts';
import { listen } from '../src/http/listen.ts';
import { startFleetSimulator } from '../src/dev/fleet-simulator.ts';
import { parseSimulatorData } from '../src/dev/fleet-simulator-data.ts';

const FLEET_TOKEN = 'bench-fleet-token';
const body = Buffer.from(JSON.stringify({ ok: true, text: 'hello from upstream' }));
const upstream = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
const upstreamUrl = `http://127.0.0.1:${await listen(upstream, 0, '127.0.0.1')}`;

const bareProxy = httpProxy.createProxyServer({ target: upstreamUrl, agent: new http.Agent({ keepAlive: true, maxSockets: 512 }) });
const bare = http.createServer((req, res) => bareProxy.web(req, res));
const bareUrl = `http://127.0.0.1:${await listen(bare, 0, '127.0.0.1')}`;

// Two compliant laptops: one for the throughput run (warmed into the cache), one kept cold.
const host = (id: number, email: string) => ({
  id,
  uuid: `00000000-0000-4000-8000-00000000000${id}`,
  hostname: `bench-${id}.local`,
  hardware_serial: `BENCH${id}`,
  platform: 'darwin',
  os_version: 'macOS 15.3',
  status: 'online',
  seen_time: '-1m',
  emails: [{ email, source: 'custom' }],
  policy_results: { 1: 'pass', 2: 'pass' },
});
const fleet = await startFleetSimulator({
  apiToken: FLEET_TOKEN,
  data: parseSimulatorData({
    policies: [
      { id: 1, name: 'Disk encryption enabled', query: 'SELECT 1;', critical: true, platform: 'darwin' },
      { id: 2, name: 'Screen lock enabled', query: 'SELECT 1;', platform: 'darwin' },
    ],
    hosts: [host(1, 'bench@example.com'), host(2, 'cold@example.com')],
  }),
});

const config = parseConfigText(
  stringify({
    listeners: [{ address: '127.0.0.1', port: 0 }],
    // Discovery is not needed for requests that already carry a session.
    oidc: { issuer: 'http://127.0.0.1:9', clientId: 'bench', clientSecret: 'bench' },
    session: { secrets: ['bench-session-secret-0123456789-abcdefghij'] },
    fleet: { url: fleet.url, apiToken: FLEET_TOKEN },
    routes: [{ name: 'bench', host: '127.0.0.1', upstream: upstreamUrl, allowedGroups: ['engineering'], ...(process.env.BENCH_NO_DEVICE ? {} : { device: { requireCritical: true } }) }],
  }),
  'bench',
  {},
);
const gateway = createGateway(config, { log: pino({ level: 'silent' }) });
const [bound] = await gateway.listen();

async function cookieFor(email: string): Promise<string> {
  const nowMs = Date.now();
  const value = await gateway.runtime().sessions.seal({
    id: randomBytes(18).toString('base64url'),
    sub: email,
    email,
    groups: ['engineering'],
    createdAtMs: nowMs,
    lastSeenAtMs: nowMs,
    expiresAtMs: nowMs + 3600_000,
  });
  return `${config.session.cookieName}=${value}`;
}

process.stdout.write(
  `${JSON.stringify({
    upstream: upstreamUrl,
    bare: bareUrl,
    gateway: bound?.url,
    fleet: fleet.url,
    cookie: await cookieFor('bench@example.com'),
    coldCookie: await cookieFor('cold@example.com'),
  })}\n`,
);

// Exit through process.exit so --cpu-prof can write its profile.
process.on('SIGTERM', () => process.exit(0));
