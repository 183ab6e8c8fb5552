// Composition root: builds the runtime (clients, route table, forwarders) from one frozen config, mounts
// every feature's endpoints under /.trustgate/ from one table, opens the listeners (HTTP, HTTPS with
// optional client certificates), feeds every request and upgrade into the pipeline, swaps configs atomically on reload (admin saves, edits on disk) and logs one decision
// line per request.
import { listen } from './http/listen.ts';
import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { GatewayConfig, ListenerConfig } from './config/schema.ts';
import { clientView } from './http/client-address.ts';
import { buildRuntime, disposeRuntime } from './build-runtime.ts';
import { isLoopbackHost } from './config/loopback.ts';
import { answerClientError, refuseConnect } from './http/answer-client-error.ts';
import { consoleOnly, isAdminHost } from './http/admin-host.ts';
import { handleRequest, handleUpgrade } from './pipeline/handle-request.ts';
import type { ListenerInfo, RequestContext, Runtime } from './pipeline/request-context.ts';
import { combineEndpoints } from './pipeline/internal-endpoints.ts';
import { gatewayEndpoints } from './gateway-endpoints.ts';
import { signInEndpoints } from './pipeline/identify-user/sign-in-endpoints.ts';
import { deviceFormEndpoints } from './pipeline/act/device-forms.ts';
import { breakGlassEndpoints } from './break-glass/break-glass-forms.ts';
import { adminEndpoints } from './admin/admin-endpoints.ts';
import type { ResultsSource } from './pipeline/gather-posture/results-source.ts';
import { createDecisionJournal } from './admin/decision-journal.ts';
import { createConfigStore } from './admin/config-store.ts';
import { versionOf } from './config/version-of.ts';
import { watchConfigFile, type ConfigWatcher } from './config/watch-config.ts';
import type { Env } from './config/substitute-env.ts';

/** Every endpoint under /.trustgate/, each feature contributing its own entries; the console's only on admin.host. */
const ENDPOINTS = combineEndpoints(gatewayEndpoints, signInEndpoints, deviceFormEndpoints, breakGlassEndpoints, consoleOnly(adminEndpoints));

export interface GatewayDeps {
  log?: Logger;
  now?: () => number;
  /** Use this osquery results source instead of building one from trust.source (tests inject one). */
  resultsSource?: ResultsSource;
  /** The file the config came from: admins edit it, and edits on disk are picked up. */
  configFile?: string;
  /** Where ${NAME} in the config file is looked up (on admin saves and reloads too); default process.env. */
  env?: Env;
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
  /**
   * Swaps in a new config atomically: new requests use it at once, requests in flight finish under the
   * one they started with, and nothing restarts. Listener changes need a restart (logged, not applied).
   */
  reload(config: GatewayConfig): void;
}

export function createGateway(config: GatewayConfig, deps: GatewayDeps = {}): Gateway {
  const log = deps.log ?? pino({ level: config.logging.level });
  const now = deps.now ?? Date.now;
  const decisions = createDecisionJournal();
  const store = deps.configFile ? createConfigStore({ file: deps.configFile, now, env: deps.env }) : undefined;
  let watcher: ConfigWatcher | undefined;
  const admin = store
    ? {
        store,
        apply(next: GatewayConfig, version: string) {
          gateway.reload(next);
          watcher?.applied(version);
        },
      }
    : undefined;
  const runtimeDeps = { log, now, resultsSource: deps.resultsSource, decisions, admin };
  let runtime = buildRuntime(config, runtimeDeps);
  const servers: http.Server[] = [];
  const inFlight = new Map<Runtime, number>();
  const retired = new Set<Runtime>();
  runtime.oidc.ready().catch((error: unknown) => log.warn({ issuer: config.oidc.issuer, err: String(error) }, 'identity provider not reachable yet; retrying'));

  // Each request holds the runtime it started with; a retired runtime is closed when its last one ends.
  const track = {
    enter(): Runtime {
      inFlight.set(runtime, (inFlight.get(runtime) ?? 0) + 1);
      return runtime;
    },
    leave(used: Runtime): void {
      const left = (inFlight.get(used) ?? 1) - 1;
      inFlight.set(used, left);
      if (left === 0 && retired.has(used)) retire(used);
    },
  };
  function retire(old: Runtime): void {
    retired.delete(old);
    inFlight.delete(old);
    disposeRuntime(old, runtime).catch((error: unknown) => log.warn({ err: String(error) }, 'closing the previous config failed'));
  }

  const gateway: Gateway = {
    runtime: () => runtime,
    reload(next) {
      if (JSON.stringify(next.listeners) !== JSON.stringify(runtime.config.listeners)) {
        log.warn('listener changes take effect after a restart');
      }
      const old = runtime;
      runtime = buildRuntime({ ...next, listeners: old.config.listeners }, runtimeDeps, old);
      runtime.oidc.ready().catch(() => {});
      retired.add(old);
      if (!inFlight.get(old)) retire(old);
      log.info({ routes: next.routes.length }, 'configuration reloaded');
    },
    async listen() {
      // A grant store or audit file that cannot open is a start-up error, not a surprise at the first emergency.
      await runtime.audit.ready();
      await runtime.breakGlass?.ready();
      // So is a revocation list that cannot be read: starting without it would bring revoked sessions back.
      await runtime.revocation.ready();
      const bound: BoundListener[] = [];
      for (const [index, listener] of config.listeners.entries()) {
        const server = createListenerServer(listener, track, log);
        servers.push(server);
        const port = await listen(server, listener.port, listener.address);
        const scheme = listener.tls ? 'https' : 'http';
        const host = listener.address.includes(':') ? `[${listener.address}]` : listener.address;
        bound.push({ name: listener.name ?? `listener-${index}`, url: `${scheme}://${host}:${port}`, port });
      }
      logAdminHost(runtime);
      if (store) {
        const initial = versionOf(readFileSync(store.file, 'utf8'));
        watcher = watchConfigFile({ file: store.file, initialVersion: initial, log, env: store.env, apply: (next) => gateway.reload(next) });
      }
      return bound;
    },
    async close() {
      watcher?.close();
      await disposeRuntime(runtime);
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
  return gateway;
}

function logAdminHost(runtime: Runtime): void {
  const host = runtime.config.admin.host;
  if (host === undefined) runtime.log.warn('admin console disabled: admin.host is not set, so no host serves /.trustgate/admin/');
  else runtime.log.info({ adminHost: host }, `admin console served only on ${host}; every route host answers 404 for /.trustgate/admin/`);
}

function createListenerServer(listener: ListenerConfig, track: { enter(): Runtime; leave(used: Runtime): void }, log: Logger): http.Server {
  const info: ListenerInfo = {
    protocol: listener.tls ? 'https' : 'http',
    secureCookies: Boolean(listener.tls) || !isLoopbackHost(listener.address),
  };
  // Host is checked by check-framing.ts, which answers with a request id (Node's own check would not).
  const server = listener.tls
    ? https.createServer({
        requireHostHeader: false,
        cert: readFileSync(listener.tls.certFile),
        key: readFileSync(listener.tls.keyFile),
        ...(listener.tls.clientCaFile ? { ca: readFileSync(listener.tls.clientCaFile) } : {}),
        requestCert: listener.tls.requestClientCert,
        // Unverified certificates are treated as absent by identify-device, not refused at the handshake.
        rejectUnauthorized: false,
      })
    : http.createServer({ requireHostHeader: false });
  server.on('request', (req, res) => {
    const used = track.enter();
    const ctx = createContext(used, info, req, res);
    res.on('close', () => {
      logDecision(ctx, res.statusCode);
      track.leave(used);
    });
    void handleRequest(ctx, ENDPOINTS);
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const used = track.enter();
    const ctx = createContext(used, info, req, undefined);
    void handleUpgrade(ctx, socket, head).then((status) => {
      logDecision(ctx, status);
      track.leave(used);
    });
  });
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => answerClientError(error, socket, log));
  server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => refuseConnect(socket, log));
  return server;
}

function createContext(used: Runtime, listener: ListenerInfo, req: http.IncomingMessage, res: http.ServerResponse | undefined): RequestContext {
  const view = clientView(req, used.trustedProxies, listener.protocol);
  // The admin host gets its own cookie scope; everything it does then reads the admin host's runtime view.
  const adminView = isAdminHost(used.config.admin.host, view.host) ? used.adminHost : undefined;
  const runtime = adminView ? (listener.secureCookies ? adminView.secure : adminView.plain) : used;
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

function journal(ctx: RequestContext): void {
  const { route, decision, session, trust, posture } = ctx;
  if (!route || !decision) return;
  // Only plain values and shared immutable objects are kept: never the request or response.
  const hosts = posture?.kind === 'evaluated' ? posture.verdict.hosts : [];
  const timeMs = ctx.runtime.now();
  const requestId = ctx.id;
  const path = ctx.target?.path;
  const device = deviceSummary(ctx);
  ctx.runtime.decisions.add(() => ({
    time: new Date(timeMs).toISOString(),
    requestId,
    user: session?.email,
    groups: session?.groups ?? [],
    device,
    route: route.name,
    path,
    verdict: decision.verdict,
    reasons: decision.reasons,
    trustScore: trust?.kind === 'scored' ? trust.score : undefined,
    trust: trust?.kind === 'scored' ? trust.explanation : undefined,
    failingPolicies: hosts.flatMap((h) => h.findings.map((f) => f.id)),
    policyResults: Object.fromEntries(hosts.flatMap((h) => h.host.policies.map((p) => [p.id, p.response]))),
  }));
}

function logDecision(ctx: RequestContext, status: number): void {
  journal(ctx);
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
