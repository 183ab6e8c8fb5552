// Builds the runtime for one config version. On a reload, parts whose config section did not change are
// carried over (keep-alive pools, the posture cache, sessions, the grant store), so a route edit does
// not drop warm caches or connections; what the new version no longer uses is closed once drained.
import { readFileSync } from 'node:fs';
import type { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { GatewayConfig } from './config/schema.ts';
import type { Runtime } from './pipeline/request-context.ts';
import type { ResultsSource } from './pipeline/gather-posture/results-source.ts';
import { createRouteTable } from './pipeline/match-route.ts';
import { createOidcClient } from './pipeline/identify-user/oidc-client.ts';
import { createSessionCookie } from './pipeline/identify-user/session-cookie.ts';
import { createSealer } from './pipeline/identify-user/create-sealer.ts';
import { createForwarder, type Forwarder } from './pipeline/act/create-forwarder.ts';
import { createHeaderFilter } from './pipeline/act/header-filter.ts';
import { createTrustedProxies } from './http/client-address.ts';
import { createFleetClient } from './pipeline/gather-posture/fleet-client.ts';
import { createPostureCache } from './pipeline/gather-posture/posture-cache.ts';
import { createPostureMetrics } from './pipeline/gather-posture/posture-cache-metrics.ts';
import { loadCaBundle } from './pipeline/identify-device/device-certificate.ts';
import { compileSanPattern } from './config/compile-san-pattern.ts';
import { createCsrf } from './http/csrf.ts';
import { createTrustRuntime } from './pipeline/gather-posture/create-trust-runtime.ts';
import { createBreakGlass } from './break-glass/create-break-glass.ts';
import { createAuditTrail } from './break-glass/create-audit-trail.ts';
import { createSessionRevocation } from './sessions/create-session-revocation.ts';
import { isAdminHost } from './http/admin-host.ts';

export interface RuntimeDeps {
  log: Logger;
  now: () => number;
  resultsSource?: ResultsSource;
  /** Gateway-wide, kept across reloads. */
  decisions: Runtime['decisions'];
  admin: Runtime['admin'];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function buildRuntime(config: GatewayConfig, deps: RuntimeDeps, previous?: Runtime): Runtime {
  const { log, now } = deps;
  const old = previous?.config;
  const keepFleet = previous && old && same(old.fleet, config.fleet) && same(old.posture, config.posture);
  const keepSession = previous && old && same(old.session, config.session);
  const keepBreakGlass = previous?.breakGlass && old && same(old.breakGlass, config.breakGlass) && config.routes.some((r) => r.breakGlass?.allowed);
  const { fleet, posture, metrics, policyCreatedAt } = keepFleet ? previous : buildPosture(config, now);
  // Always built: session revocations are audited whether or not a route offers break glass.
  const audit = previous && old && same(old.breakGlass.audit, config.breakGlass.audit) ? previous.audit : createAuditTrail(config.breakGlass.audit, { now, log });
  const runtime: Runtime = {
    config,
    log,
    now,
    decisions: deps.decisions,
    admin: deps.admin,
    csrf: keepSession ? previous.csrf : createCsrf(config.session.secrets),
    fleet,
    posture,
    policyCreatedAt,
    deviceIdentity: { sanPattern: compileSanPattern(config.deviceIdentity.sanPattern), headerCas: loadDeviceCas(config) },
    metrics,
    metricsAllowed: createTrustedProxies(config.metrics.allowFrom),
    audit,
    breakGlass: keepBreakGlass ? previous.breakGlass : config.routes.some((r) => r.breakGlass?.allowed) ? createBreakGlass(config.breakGlass, { now, log, audit }) : undefined,
    trust:
      previous && old && same(old.trust, config.trust)
        ? previous.trust
        : config.trust
          ? createTrustRuntime(config.trust, { now, source: deps.resultsSource, onSourceError: (err) => log.warn({ err: String(err) }, 'results source problem') })
          : undefined,
    routes: createRouteTable(config.routes),
    oidc: previous && old && same(old.oidc, config.oidc) ? previous.oidc : createOidcClient({ config: config.oidc, log, now }),
    revocation:
      previous && old && same(old.session.revocation, config.session.revocation) ? previous.revocation : createSessionRevocation(config.session.revocation, { now, log }),
    sessions: keepSession ? previous.sessions : createSessionCookie({ config: config.session, now }),
    loginSealer: keepSession ? previous.loginSealer : createSealer({ secrets: config.session.secrets, purpose: 'login' }),
    forwarders: buildForwarders(config, previous),
    trustedProxies: createTrustedProxies(config.trustedProxies),
    headerFilter: createHeaderFilter({ stripHeaders: config.stripHeaders, certificateHeader: config.deviceIdentity.certificateHeader }),
    adminHost: undefined,
  };
  return { ...runtime, adminHost: buildAdminHost(runtime, keepSession ? previous : undefined) };
}

/**
 * The runtime as the admin host sees it: its own host-only session cookie (`__Host-` prefixed where the
 * listener sets Secure cookies), login state and CSRF keys, each sealed for the admin scope so a route
 * host's session never opens the console and the console's never opens a route; no routes (nothing is
 * proxied there, and sign-in may only return to the admin host); the callback and signed-out page on the
 * admin host itself, whatever oidc.redirectUrl says for the route hosts.
 */
function buildAdminHost(runtime: Runtime, previous: Runtime | undefined): Runtime['adminHost'] {
  const { config, now } = runtime;
  const host = config.admin.host;
  if (host === undefined) return undefined;
  const kept = previous?.adminHost?.plain;
  const loginSealer = kept?.loginSealer ?? createSealer({ secrets: config.session.secrets, purpose: 'admin-login' });
  const csrf = kept?.csrf ?? createCsrf(config.session.secrets, 'admin csrf');
  const routes = { ...createRouteTable([]), servesHost: (h: string) => isAdminHost(host, h) };
  const oidc = { ...config.oidc, redirectUrl: undefined, postLogoutRedirectUrl: undefined };
  const view = (secure: boolean, before: Runtime | undefined): Runtime => {
    const session = { ...config.session, cookieName: `${secure ? '__Host-' : ''}${config.session.cookieName}_admin`, cookieDomain: undefined };
    const sessions = before?.sessions ?? createSessionCookie({ config: session, now, purpose: 'admin-session' });
    return { ...runtime, config: { ...config, session, oidc }, sessions, loginSealer, csrf, routes };
  };
  return { secure: view(true, previous?.adminHost?.secure), plain: view(false, kept) };
}

function buildPosture(config: GatewayConfig, now: () => number): Pick<Runtime, 'fleet' | 'posture' | 'metrics' | 'policyCreatedAt'> {
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'trustgate_' });
  const fleet = config.fleet
    ? createFleetClient({ baseUrl: config.fleet.url, apiToken: config.fleet.apiToken, timeoutMs: config.fleet.timeout, maxConcurrency: config.fleet.maxConcurrency, retries: config.fleet.retries })
    : undefined;
  const posture = fleet
    ? createPostureCache({ fleet, ttlMs: config.posture.cacheTtl, staleLimitMs: config.posture.staleLimit, maxEntries: config.posture.maxEntries, now, metrics: createPostureMetrics(metrics) })
    : undefined;
  return { fleet, posture, metrics, policyCreatedAt: new Map() };
}

/** One forwarder per route; an unchanged route keeps its forwarder and keep-alive pool. */
function buildForwarders(config: GatewayConfig, previous?: Runtime): Map<string, Forwarder> {
  return new Map(
    config.routes.map((route) => {
      const before = previous?.config.routes.find((r) => r.name === route.name);
      const kept = before && same(before, route) ? previous?.forwarders.get(route.name) : undefined;
      return [route.name, kept ?? createForwarder(route)];
    }),
  );
}

/** Closes what `old` holds and `next` (if any) no longer uses. */
export async function disposeRuntime(old: Runtime, next?: Runtime): Promise<void> {
  const gone = <T>(part: T | undefined, kept: T | undefined): part is T => part !== undefined && part !== kept;
  if (gone(old.oidc, next?.oidc)) old.oidc.close();
  if (gone(old.fleet, next?.fleet)) await old.fleet.close();
  if (gone(old.trust, next?.trust)) await old.trust.close();
  if (gone(old.breakGlass, next?.breakGlass)) await old.breakGlass.close();
  if (gone(old.audit, next?.audit)) await old.audit.close();
  if (gone(old.revocation, next?.revocation)) await old.revocation.close();
  const kept = new Set(next?.forwarders.values() ?? []);
  for (const forwarder of old.forwarders.values()) if (!kept.has(forwarder)) forwarder.close();
}

/** CAs a forwarded device certificate must chain to: the configured bundle, else the listeners' device CAs. */
function loadDeviceCas(config: GatewayConfig): X509Certificate[] {
  const files = config.deviceIdentity.certificateCaFile
    ? [config.deviceIdentity.certificateCaFile]
    : config.listeners.flatMap((l) => (l.tls?.clientCaFile ? [l.tls.clientCaFile] : []));
  return files.flatMap((file) => loadCaBundle(readFileSync(file, 'utf8')));
}

