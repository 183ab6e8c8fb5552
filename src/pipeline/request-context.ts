// The per-request record every stage reads and fills in, and the runtime (built from one config
// version) that a request keeps from start to end even if the config is swapped meanwhile.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { GatewayConfig, RouteConfig } from '../config/schema.ts';
import type { NormalizedTarget } from '../http/normalize-path.ts';
import type { RouteTable } from './match-route.ts';
import type { OidcClient } from './identify-user/oidc-client.ts';
import type { SessionCookie, Session } from './identify-user/session-cookie.ts';
import type { Sealer } from './identify-user/create-sealer.ts';
import type { Forwarder } from './act/create-forwarder.ts';
import type { HeaderFilter } from './act/header-filter.ts';
import type { Decision } from './decide/decide.ts';
import type { TrustedProxies } from '../http/client-address.ts';
import type { PostureResult } from './gather-posture/gather-posture.ts';
import type { TrustResult } from './gather-posture/gather-trust.ts';
import type { DeviceResult } from './identify-device/identify-device.ts';
import type { Grant } from '../break-glass/grant.ts';
import type { BreakGlass } from '../break-glass/create-break-glass.ts';
import type { DecisionJournal } from '../admin/decision-journal.ts';
import type { ConfigStore } from '../admin/config-store.ts';
import type { PostureCache } from './gather-posture/posture-cache.ts';
import type { FleetClient } from './gather-posture/fleet-client.ts';
import type { Csrf } from '../http/csrf.ts';
import type { SessionRevocation } from '../sessions/create-session-revocation.ts';
import type { AuditTrail } from '../break-glass/create-audit-trail.ts';
import type { TrustRuntime } from './gather-posture/create-trust-runtime.ts';
import type { Registry } from 'prom-client';
import type { X509Certificate } from 'node:crypto';

export interface Runtime {
  readonly config: GatewayConfig;
  readonly routes: RouteTable;
  readonly oidc: OidcClient;
  readonly sessions: SessionCookie;
  /** Revoked sessions (sign-out, admin, back-channel logout), shared by replicas through the store. */
  readonly revocation: SessionRevocation;
  readonly loginSealer: Sealer;
  readonly forwarders: ReadonlyMap<string, Forwarder>;
  readonly trustedProxies: TrustedProxies;
  /** Inbound headers never forwarded (protected names, stripHeaders), folded once per config. */
  readonly headerFilter: HeaderFilter;
  readonly log: Logger;
  readonly now: () => number;
  readonly csrf: Csrf;
  readonly fleet: FleetClient | undefined;
  readonly posture: PostureCache | undefined;
  /** Policy creation times per team (null = global), remembered for the emptyResult "grace" rule. */
  readonly policyCreatedAt: Map<number | null, ReadonlyMap<number, Date>>;
  readonly deviceIdentity: { readonly sanPattern: RegExp; readonly headerCas: readonly X509Certificate[] };
  readonly metrics: Registry;
  readonly trust: TrustRuntime | undefined;
  /** The gateway's audit trail (break glass, session revocations); always present. */
  readonly audit: AuditTrail;
  readonly breakGlass: BreakGlass | undefined;
  readonly decisions: DecisionJournal;
  /** Present when the gateway runs from a config file admins may edit. */
  readonly admin: { readonly store: ConfigStore; apply(config: GatewayConfig, version: string): void } | undefined;
  readonly metricsAllowed: TrustedProxies;
  /**
   * With admin.host: this runtime as the admin host sees it (its own session cookie, login state and CSRF
   * keys, no routes), for listeners that set Secure cookies and for those that do not.
   */
  readonly adminHost: { readonly secure: Runtime; readonly plain: Runtime } | undefined;
}

export interface ListenerInfo {
  readonly protocol: 'http' | 'https';
  /** Set cookies with Secure: everywhere except plain http bound to loopback. */
  readonly secureCookies: boolean;
}

export interface RequestContext {
  readonly id: string;
  readonly startedAtMs: number;
  readonly req: IncomingMessage;
  /** Absent for WebSocket upgrades, which answer on the raw socket. */
  readonly res: ServerResponse | undefined;
  readonly runtime: Runtime;
  readonly listener: ListenerInfo;
  /** The client's address: the socket peer, or from X-Forwarded-For when the peer is a trusted proxy. */
  readonly clientAddress: string;
  /** The socket peer is a configured trusted proxy, so its X-Forwarded-* headers were believed. */
  readonly fromTrustedProxy: boolean;
  /** Scheme the client used (from X-Forwarded-Proto only behind a trusted proxy). */
  readonly protocol: 'http' | 'https';
  /** Host header as sent (lower-cased), e.g. "app.example.com:8443". */
  readonly host: string;
  target?: NormalizedTarget;
  route?: RouteConfig;
  session?: Session;
  device?: DeviceResult;
  posture?: PostureResult;
  trust?: TrustResult;
  /** The break-glass grant this request is let through under. */
  grant?: Grant;
  decision?: Decision;
  /** Set-Cookie headers to add to whatever response goes out. */
  readonly setCookies: string[];
}

export function requestOrigin(ctx: RequestContext): string {
  return `${ctx.protocol}://${ctx.host}`;
}
