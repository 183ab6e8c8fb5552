// Composition root: builds the runtime (clients, route table, forwarders) from one frozen config,
// opens the listeners (HTTP, HTTPS with optional client certificates) and feeds every request and
// upgrade into the pipeline. Logs one decision line per request.
import { listen } from './http/listen.ts';
import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { GatewayConfig, ListenerConfig } from './config/schema.ts';
import { createRouteTable } from './pipeline/match-route.ts';
import { createOidcClient } from './pipeline/identify-user/oidc-client.ts';
import { createSessionCookie } from './pipeline/identify-user/session-cookie.ts';
import { createSealer } from './pipeline/identify-user/create-sealer.ts';
import { createForwarder } from './pipeline/act/create-forwarder.ts';
import { createTrustedProxies, clientView } from './http/client-address.ts';
import { isLoopbackHost } from './http/loopback.ts';
import { handleRequest, handleUpgrade } from './pipeline/handle-request.ts';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { X509Certificate } from 'node:crypto';
import { createFleetClient } from './pipeline/gather-posture/fleet-client.ts';
import { createPostureCache, createPostureMetrics } from './pipeline/gather-posture/posture-cache.ts';
import { compileSanPattern, loadCaBundle } from './pipeline/identify-device/device-certificate.ts';
import { createCsrf } from './http/csrf.ts';
import { createTrustRuntime } from './pipeline/gather-posture/create-trust-runtime.ts';
import { createBreakGlass } from './break-glass/create-break-glass.ts';
import type { ListenerInfo, RequestContext, Runtime } from './pipeline/request-context.ts';
import type { ResultsSource } from './pipeline/gather-posture/results-source.ts';

export interface GatewayDeps {
  log?: Logger;
  now?: () => number;
  /** Use this osquery results source instead of building one from trust.source (tests inject one). */
  resultsSource?: ResultsSource;
}

export interface BoundListener {
  name: string;
  url: string;
  port: number;
}

export interface Gateway {
  listen(): Promise<BoundListener[]>;
  close(): Promise<void>;
  runtime(): Runtime;
}

export function createGateway(config: GatewayConfig, deps: GatewayDeps = {}): Gateway {
  const log = deps.log ?? pino({ level: config.logging.level });
  const now = deps.now ?? Date.now;
  const runtime = buildRuntime(config, log, now, deps.resultsSource);
  const servers: http.Server[] = [];
  runtime.oidc.ready().catch((error: unknown) => log.warn({ issuer: config.oidc.issuer, err: String(error) }, 'identity provider not reachable yet; retrying'));

  return {
    runtime: () => runtime,
    async listen() {
      // A grant store or audit file that cannot open is a start-up error, not a surprise at the first emergency.
      await runtime.breakGlass?.ready();
      const bound: BoundListener[] = [];
      for (const [index, listener] of config.listeners.entries()) {
        const server = createListenerServer(listener, () => runtime);
        servers.push(server);
        const port = await listen(server, listener.port, listener.address);
        const scheme = listener.tls ? 'https' : 'http';
        const host = listener.address.includes(':') ? `[${listener.address}]` : listener.address;
        bound.push({ name: listener.name ?? `listener-${index}`, url: `${scheme}://${host}:${port}`, port });
      }
      return bound;
    },
    async close() {
      runtime.oidc.close();
      await runtime.fleet?.close();
      await runtime.trust?.close();
      await runtime.breakGlass?.close();
      for (const forwarder of runtime.forwarders.values()) forwarder.close();
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeIdleConnections();
              setTimeout(() => server.closeAllConnections(), 2_000).unref();
            }),
        ),
      );
    },
  };
}

function buildRuntime(config: GatewayConfig, log: Logger, now: () => number, resultsSource?: ResultsSource): Runtime {
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'trustgate_' });
  const fleet = config.fleet
    ? createFleetClient({ baseUrl: config.fleet.url, apiToken: config.fleet.apiToken, timeoutMs: config.fleet.timeout, maxConcurrency: config.fleet.maxConcurrency, retries: config.fleet.retries })
    : undefined;
  const posture = fleet
    ? createPostureCache({
        fleet,
        ttlMs: config.posture.cacheTtl,
        staleLimitMs: config.posture.staleLimit,
        maxEntries: config.posture.maxEntries,
        now,
        metrics: createPostureMetrics(metrics),
      })
    : undefined;
  return {
    config,
    log,
    now,
    csrf: createCsrf(config.session.secrets),
    fleet,
    posture,
    policyCreatedAt: new Map(),
    deviceIdentity: { sanPattern: compileSanPattern(config.deviceIdentity.sanPattern), headerCas: loadDeviceCas(config) },
    metrics,
    metricsAllowed: createTrustedProxies(config.metrics.allowFrom),
    breakGlass: config.routes.some((r) => r.breakGlass?.allowed) ? createBreakGlass(config.breakGlass, { now, log }) : undefined,
    trust: config.trust
      ? createTrustRuntime(config.trust, { now, source: resultsSource, onSourceError: (err) => log.warn({ err: String(err) }, 'results source problem') })
      : undefined,
    routes: createRouteTable(config.routes),
    oidc: createOidcClient({ config: config.oidc, log, now }),
    sessions: createSessionCookie({ config: config.session, now }),
    loginSealer: createSealer({ secrets: config.session.secrets, purpose: 'login' }),
    forwarders: new Map(config.routes.map((route) => [route.name, createForwarder(route)])),
    trustedProxies: createTrustedProxies(config.trustedProxies),
  };
}

/** CAs a forwarded device certificate must chain to: the configured bundle, else the listeners' device CAs. */
function loadDeviceCas(config: GatewayConfig): X509Certificate[] {
  const files = config.deviceIdentity.certificateCaFile
    ? [config.deviceIdentity.certificateCaFile]
    : config.listeners.flatMap((l) => (l.tls?.clientCaFile ? [l.tls.clientCaFile] : []));
  return files.flatMap((file) => loadCaBundle(readFileSync(file, 'utf8')));
}

function createListenerServer(listener: ListenerConfig, currentRuntime: () => Runtime): http.Server {
  const info: ListenerInfo = {
    protocol: listener.tls ? 'https' : 'http',
    secureCookies: Boolean(listener.tls) || !isLoopbackHost(listener.address),
  };
  const server = listener.tls
    ? https.createServer({
        cert: readFileSync(listener.tls.certFile),
        key: readFileSync(listener.tls.keyFile),
        ...(listener.tls.clientCaFile ? { ca: readFileSync(listener.tls.clientCaFile) } : {}),
        requestCert: listener.tls.requestClientCert,
        // Unverified certificates are treated as absent by identify-device, not refused at the handshake.
        rejectUnauthorized: false,
      })
    : http.createServer();
  server.on('request', (req, res) => {
    const ctx = createContext(currentRuntime(), info, req, res);
    res.on('close', () => logDecision(ctx, res.statusCode));
    void handleRequest(ctx);
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const ctx = createContext(currentRuntime(), info, req, undefined);
    void handleUpgrade(ctx, socket, head).finally(() => logDecision(ctx, 101));
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

function createContext(runtime: Runtime, listener: ListenerInfo, req: http.IncomingMessage, res: http.ServerResponse | undefined): RequestContext {
  const view = clientView(req, runtime.trustedProxies, listener.protocol);
  return {
    id: randomUUID(),
    startedAtMs: performance.now(),
    req,
    res,
    runtime,
    listener,
    clientAddress: view.clientAddress,
    fromTrustedProxy: view.fromTrustedProxy,
    protocol: view.protocol,
    host: view.host,
    setCookies: [],
  };
}

function deviceSummary(ctx: RequestContext): string | undefined {
  const posture = ctx.posture;
  if (posture?.kind === 'evaluated') return posture.verdict.hosts.map((h) => h.host.hostname).join(',');
  return posture?.kind === 'not-owned' ? posture.host.hostname : undefined;
}

/** Which posture sources answered this decision (for the decision log). */
function answeredSources(ctx: RequestContext): string[] | undefined {
  const sources: string[] = [];
  if (ctx.posture?.kind === 'evaluated') sources.push(`fleet:${ctx.posture.source}`);
  if (ctx.trust?.kind === 'scored') sources.push(`${ctx.trust.sourceName}:${ctx.trust.source}`);
  if (ctx.decision?.reasons.some((r) => r.startsWith('opa-') && r !== 'opa-unavailable')) sources.push('opa');
  return sources.length > 0 ? sources : undefined;
}

function logDecision(ctx: RequestContext, status: number): void {
  if (!ctx.runtime.log.isLevelEnabled('info')) return;
  ctx.runtime.log.info(
    {
      requestId: ctx.id,
      method: ctx.req.method,
      host: ctx.host,
      path: ctx.target?.path,
      route: ctx.route?.name,
      user: ctx.session?.email,
      client: ctx.clientAddress,
      device: deviceSummary(ctx),
      verdict: ctx.decision?.verdict,
      reasons: ctx.decision?.reasons,
      opaReasons: ctx.decision?.opaReasons,
      grant: ctx.grant?.id,
      trustScore: ctx.trust?.kind === 'scored' ? ctx.trust.score : undefined,
      trust: ctx.trust?.kind === 'scored' ? ctx.trust.explanation : undefined,
      sources: answeredSources(ctx),
      status,
      latencyMs: Math.round((performance.now() - ctx.startedAtMs) * 100) / 100,
    },
    'decision',
  );
}
