// Benchmark targets in one child process: a tiny upstream, a bare http-proxy forwarder in front of it,
// and the Trustgate gateway in front of it (route open to a pre-sealed session). Prints the URLs and a
// session cookie as one JSON line on stdout, then serves until killed.
import http from 'node:http';
import httpProxy from 'http-proxy';
import { pino } from 'pino';
import { stringify } from 'yaml';
import type { AddressInfo } from 'node:net';
import { parseConfigText } from '../src/config/load-config.ts';
import { createGateway } from '../src/gateway.ts';

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const body = Buffer.from(JSON.stringify({ ok: true, text: 'hello from upstream' }));
const upstream = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
const upstreamUrl = await listen(upstream);

const bareProxy = httpProxy.createProxyServer({ target: upstreamUrl, agent: new http.Agent({ keepAlive: true, maxSockets: 512 }) });
const bare = http.createServer((req, res) => bareProxy.web(req, res));
const bareUrl = await listen(bare);

const config = parseConfigText(
  stringify({
    listeners: [{ address: '127.0.0.1', port: 0 }],
    // Discovery is not needed for a request that already carries a session.
    oidc: { issuer: 'http://127.0.0.1:9', clientId: 'bench', clientSecret: 'bench' },
    session: { secrets: ['bench-session-secret-0123456789-abcdefghij'] },
    routes: [{ name: 'bench', host: '127.0.0.1', upstream: upstreamUrl, allowedGroups: ['engineering'] }],
  }),
  'bench',
  {},
);
const gateway = createGateway(config, { log: pino({ level: 'silent' }) });
const [bound] = await gateway.listen();
const nowMs = Date.now();
const cookieValue = await gateway.runtime().sessions.seal({
  sub: 'bench-user',
  email: 'bench@example.com',
  groups: ['engineering'],
  createdAtMs: nowMs,
  lastSeenAtMs: nowMs,
  expiresAtMs: nowMs + 3600_000,
});

process.stdout.write(
  `${JSON.stringify({ upstream: upstreamUrl, bare: bareUrl, gateway: bound?.url, cookie: `${config.session.cookieName}=${cookieValue}` })}\n`,
);

// Exit through process.exit so --cpu-prof can write its profile.
process.on('SIGTERM', () => process.exit(0));
