// The one configuration schema (zod): every key the gateway reads, with defaults. Unknown keys are
// rejected everywhere (z.strictObject) so a typo never silently disables a control.
import { z } from 'zod';
import { parseDuration } from './parse-duration.ts';
import { DEVICE_REASONS } from './reasons.ts';

/** "90s", "15m", "12h", "7d", "250ms" or a number of seconds → milliseconds. */
const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a duration: ${JSON.stringify(value)} (use e.g. 30s, 15m, 12h, 7d)` });
    return z.NEVER;
  }
  return ms;
});

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const absolutePath = z.string().regex(/^\/[^?#\\]*$/, 'must be a path starting with "/" (no query, no backslash)');
const hostName = z
  .string()
  .toLowerCase()
  .regex(/^[a-z0-9.-]+(:\d{1,5})?$/, 'must be a host name, optionally with :port');

const tlsSchema = z.strictObject({
  certFile: z.string().min(1),
  keyFile: z.string().min(1),
  /** CA bundle that signs device certificates (mTLS). */
  clientCaFile: z.string().min(1).optional(),
  /** Ask browsers for a client certificate; unverified ones are treated as absent. */
  requestClientCert: z.boolean().default(false),
});

const listenerSchema = z.strictObject({
  name: z.string().min(1).optional(),
  address: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535),
  tls: tlsSchema.optional(),
});

const oidcSchema = z.strictObject({
  issuer: httpUrl,
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** No offline_access by default: a session never needs a refresh token that outlives it. */
  scopes: z.array(z.string().min(1)).default(['openid', 'email', 'profile', 'groups']),
  /** Fixed callback URL; when absent it is built from the requested route's host and /.trustgate/callback. */
  redirectUrl: httpUrl.optional(),
  /** Where the IdP sends the user after RP-initiated logout; defaults to /.trustgate/signed-out. */
  postLogoutRedirectUrl: httpUrl.optional(),
  groupsClaim: z.string().min(1).default('groups'),
  emailClaim: z.string().min(1).default('email'),
  /** Plain-http issuers are refused unless they are on loopback or this is set (development only). */
  allowInsecureIssuer: z.boolean().default(false),
  discoveryTimeout: duration.default(5_000),
});

/** Where revoked sessions are recorded: a local fsync'd file (one gateway) or Redis (several replicas). */
const revocationSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('file'), path: z.string().min(1).default('var/session-revocations.jsonl') }),
    z.strictObject({
      kind: z.literal('redis'),
      url: z.string().regex(/^rediss?:\/\//, 'a redis:// URL'),
      prefix: z.string().min(1).default('trustgate:sessions:'),
      /** While the Redis subscription is down longer than this, sessions are refused (fail closed). */
      failClosedAfter: duration.default(30_000),
    }),
  ])
  .default({ kind: 'file', path: 'var/session-revocations.jsonl' });

const sessionSchema = z.strictObject({
  cookieName: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-" only').default('trustgate_session'),
  /** The first secret encrypts; all of them decrypt (rotation). At least 32 characters each. */
  secrets: z.array(z.string().min(32, 'session secrets need at least 32 characters')).min(1),
  lifetime: duration.default(12 * 3600_000),
  idleTimeout: duration.default(3600_000),
  /** Refresh tokens are used this long before the IdP tokens expire. */
  refreshBefore: duration.default(60_000),
  cookieDomain: z.string().min(1).optional(),
  revocation: revocationSchema,
});

/** What a route requires of the device the request comes from (Fleet policies, freshness). */
const deviceRuleSchema = z.strictObject({
  /** With device mapping by email: must `all` of the user's devices comply, or `any` one? */
  match: z.enum(['all', 'any']).default('all'),
  /**
   * any: every method in deviceIdentity.methods counts; certificate: only a client certificate (mTLS or a
   * trusted front proxy's header), never the email mapping — a stolen cookie cannot borrow the user's laptop.
   */
  identifyBy: z.enum(['any', 'certificate']).default('any'),
  /** A device identified by certificate must also be mapped to the signed-in user in Fleet. */
  requireOwner: z.boolean().default(false),
  /** Fleet policy ids or exact names that must pass. */
  requirePolicies: z.array(z.union([z.number().int().positive(), z.string().min(1)])).default([]),
  /** Every policy Fleet marks critical must pass too. */
  requireCritical: z.boolean().default(false),
  /** A policy with no result yet (""): fail, pass, or pass while the policy is younger than emptyResultGrace. */
  emptyResult: z.enum(['fail', 'pass', 'grace']).default('fail'),
  emptyResultGrace: duration.default(24 * 3600_000),
  /** The device must have checked in with Fleet this recently (seen_time). */
  maxCheckInAge: duration.optional(),
  /** Its policy results must be this fresh (policy_updated_at). */
  maxPolicyAge: duration.optional(),
  /** enforce: deny; report-only: log the would-be denial and let through; warn: let through with a notice until warnUntil. */
  mode: z.enum(['enforce', 'report-only', 'warn']).default('enforce'),
  warnUntil: z.iso.datetime({ offset: true }).optional(),
  /** When Fleet cannot answer and no usable cached result exists: deny (fail closed) or allow. */
  onFleetError: z.enum(['deny', 'allow']).default('deny'),
});

/** A minimum trust score (0–100) computed from the device's latest osquery results. */
const trustRuleSchema = z.strictObject({
  min: z.number().int().min(0).max(100),
  mode: z.enum(['enforce', 'report-only', 'warn']).default('enforce'),
  warnUntil: z.iso.datetime({ offset: true }).optional(),
  /** When no score can be computed (results source down): deny (fail closed) or allow. */
  onError: z.enum(['deny', 'allow']).default('deny'),
});

/** Ask Open Policy Agent as well (its data API); OPA can only turn an allow into a deny. */
const opaRuleSchema = z.strictObject({
  url: httpUrl,
  /** Document path under /v1/data, e.g. "trustgate/allow" → POST {url}/v1/data/trustgate/allow. */
  path: z.string().regex(/^[A-Za-z0-9_/]+$/).default('trustgate/decision'),
  timeout: duration.default(2_000),
  onError: z.enum(['deny', 'allow']).default('deny'),
});

/** Emergency access a blocked user may grant themselves, with a written reason, within these limits. */
const breakGlassRuleSchema = z.strictObject({
  allowed: z.boolean().default(false),
  maxDuration: duration.default(4 * 3600_000),
  /** The choices offered on the form (each at most maxDuration). */
  durations: z.array(duration).min(1).default([30 * 60_000, 3600_000, 4 * 3600_000]),
  requireReasonMinLength: z.number().int().min(1).max(1000).default(20),
  maxGrantsPerUserPerDay: z.number().int().min(1).max(100).default(3),
  /** Send the audit events to the webhook (Slack etc.) as well. */
  notify: z.boolean().default(true),
  /** Which failures a grant may cover; by default everything but an unknown device or a missing device certificate. */
  covers: z.array(z.enum(DEVICE_REASONS)).default(DEVICE_REASONS.filter((r) => r !== 'device-unknown' && r !== 'device-certificate-required')),
  /** Routes sharing a group share grants (one emergency covers the group). */
  group: z.string().regex(/^[a-z0-9][a-z0-9-]*$/).optional(),
});

const routeSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and "-"'),
  host: hostName,
  pathPrefix: absolutePath.default('/'),
  upstream: httpUrl,
  allowedGroups: z.array(z.string().min(1)).default([]),
  allowedEmailDomains: z.array(z.string().toLowerCase().regex(/^[a-z0-9.-]+$/, 'a domain such as example.com')).default([]),
  allowedEmails: z.array(z.email().toLowerCase()).default([]),
  /** Explicitly let every signed-in user in; without it a route needs at least one allow rule. */
  allowAnyAuthenticatedUser: z.boolean().default(false),
  websockets: z.boolean().default(false),
  /** Origins besides the route's own (scheme://host[:port]) whose pages may open WebSockets to it. */
  websocketOrigins: z.array(z.string().toLowerCase().regex(/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/, 'an origin such as https://app.example.com (scheme, host, optional port; no path)')).default([]),
  preserveHost: z.boolean().default(false),
  /** Paths under the route that need no sign-in (prefixes on segment boundaries). */
  public: z.array(absolutePath).default([]),
  timeout: duration.default(30_000),
  /** Device posture requirements; without this block the route does not check devices. */
  device: deviceRuleSchema.optional(),
  minTrustScore: trustRuleSchema.optional(),
  opa: opaRuleSchema.optional(),
  breakGlass: breakGlassRuleSchema.optional(),
  /**
   * Shown to a signed-in user this route refuses (page and JSON) instead of who is allowed in: the allow
   * lists are never shown to the person who was refused.
   */
  deniedMessage: z.string().trim().min(1).max(500).optional(),
});

const fleetSchema = z.strictObject({
  url: httpUrl,
  apiToken: z.string().min(1),
  timeout: duration.default(5_000),
  maxConcurrency: z.number().int().min(1).max(256).default(16),
  retries: z.number().int().min(0).max(5).default(2),
  /** Shown on the access-denied page: where users find help, and a My Device link if you have one. */
  helpUrl: httpUrl.optional(),
  myDeviceUrl: httpUrl.optional(),
});

const postureSchema = z.strictObject({
  /** How long a passing result is served from cache. Failing results are never served from cache. */
  cacheTtl: duration.default(5 * 60_000),
  /** While Fleet is failing, a passing result may still be used until it is this old. */
  staleLimit: duration.default(15 * 60_000),
  maxEntries: z.number().int().min(100).default(100_000),
  /** How long "I fixed it — check again" waits for the device to report new results. */
  recheckWait: duration.default(30_000),
});

const elasticsearchSourceSchema = z.strictObject({
  kind: z.literal('elasticsearch'),
  node: httpUrl,
  apiKey: z.string().min(1).optional(),
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  index: z.string().min(1).default('logs-osquery.result-*'),
  /**
   * Field names differ between the Elastic integration, Filebeat and Logstash pipelines; unset ones use
   * the Elastic osquery integration's layout (osquery.result.*, see the README).
   */
  fields: z
    .strictObject(
      Object.fromEntries(
        ['query', 'hostUuid', 'username', 'timestamp', 'hostIdentifier', 'columns', 'snapshot', 'action', 'epoch', 'counter', 'calendarTime'].map((k) => [k, z.string().min(1).optional()]),
      ) as Record<'query' | 'hostUuid' | 'username' | 'timestamp' | 'hostIdentifier' | 'columns' | 'snapshot' | 'action' | 'epoch' | 'counter' | 'calendarTime', z.ZodOptional<z.ZodString>>,
    )
    .default({}),
  packs: z.array(z.string().min(1)).optional(),
  maxDocuments: z.number().int().min(1).max(10_000).default(500),
  timeout: duration.default(3_000),
  lookback: duration.default(7 * 86_400_000),
});

const resultLogSourceSchema = z.strictObject({
  kind: z.literal('result-log'),
  /** The JSON-lines result log Fleet (or osquery's filesystem logger) writes. */
  file: z.string().min(1),
});

const trustSchema = z.strictObject({
  /** Trust profile YAML (sections, tables, column weights, expectations); default: the built-in profile. */
  profileFile: z.string().min(1).optional(),
  source: z.discriminatedUnion('kind', [elasticsearchSourceSchema, resultLogSourceSchema]),
  /** Whose results to score: the identified device (Fleet host uuid) or the user (username field). */
  subject: z.enum(['host', 'user']).default('host'),
  /** A passing score is reused this long; a score below a route's threshold is always recomputed. */
  cacheTtl: duration.default(5 * 60_000),
  /** Where learned values (first-seen browsers, serials, …) live: per gateway, or shared through Redis. */
  learnedStore: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('memory') }),
      z.strictObject({ kind: z.literal('redis'), url: z.string().regex(/^rediss?:\/\//, 'a redis:// URL'), prefix: z.string().min(1).default('trustgate:learned:') }),
    ])
    .default({ kind: 'memory' }),
});

const breakGlassSchema = z.strictObject({
  /** Where grants live: a local append-only file (one gateway) or Redis (several replicas). */
  store: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('file'), file: z.string().min(1).default('var/break-glass-grants.jsonl') }),
      z.strictObject({ kind: z.literal('redis'), url: z.string().regex(/^rediss?:\/\//, 'a redis:// URL'), prefix: z.string().min(1).default('trustgate:break-glass:') }),
    ])
    .default({ kind: 'file', file: 'var/break-glass-grants.jsonl' }),
  audit: z
    .strictObject({
      /** Always written (fsync'd JSON lines); the authoritative trail. */
      file: z.string().min(1).default('var/break-glass-audit.jsonl'),
      /** Events a sink could not take are spooled here and retried. */
      spoolDir: z.string().min(1).default('var/audit-spool'),
      elasticsearch: z.strictObject({ node: httpUrl, index: z.string().min(1).default('trustgate-audit'), apiKey: z.string().min(1).optional() }).optional(),
      webhook: z.strictObject({ url: httpUrl, timeout: duration.default(5_000) }).optional(),
    })
    .default({ file: 'var/break-glass-audit.jsonl', spoolDir: 'var/audit-spool' }),
});

const deviceIdentitySchema = z.strictObject({
  /** Tried in order; the first that identifies a device wins. */
  methods: z.array(z.enum(['certificate', 'header', 'email'])).min(1).default(['certificate', 'header', 'email']),
  /** Regular expression over the certificate's URI SANs; the named group "uuid" is the Fleet host UUID. */
  sanPattern: z.string().min(1).default('^urn:device:apple:uuid:(?<uuid>[0-9A-Fa-f-]{36})$'),
  /** Header in which a trusted front proxy forwards the verified client certificate (URL-encoded PEM). */
  certificateHeader: z.string().regex(/^[A-Za-z0-9-]+$/).toLowerCase().default('x-client-cert'),
  /** CA bundle the forwarded certificate must chain to (defaults to the listeners' clientCaFile). */
  certificateCaFile: z.string().min(1).optional(),
});

export const configSchema = z.strictObject({
  listeners: z.array(listenerSchema).min(1),
  /** Addresses or CIDR ranges whose X-Forwarded-* headers are believed. Default: none. */
  trustedProxies: z.array(z.string().min(1)).default([]),
  /**
   * Inbound headers never forwarded to any upstream, on top of the built-in list; compared in every
   * spelling a backend could fold into the same name. A trailing "*" makes an entry a prefix.
   */
  stripHeaders: z
    .array(z.string().regex(/^(?=[^*]*[A-Za-z0-9])[!#$%&'+\-.^_`|~0-9A-Za-z]+\*?$/, 'must be a header name (a trailing "*" makes it a prefix)'))
    .default([]),
  oidc: oidcSchema,
  session: sessionSchema,
  routes: z.array(routeSchema).min(1),
  fleet: fleetSchema.optional(),
  trust: trustSchema.optional(),
  breakGlass: breakGlassSchema.default(breakGlassSchema.parse({})),
  admin: z
    .strictObject({
      /**
       * The only host that serves the admin console (/.trustgate/admin/…), in its own cookie scope; every
       * route host answers 404 there. Unset: the console is not served at all.
       */
      host: hostName.optional(),
      /** Members of these IdP groups may use the console (routes, history, decisions, grants). */
      groups: z.array(z.string().min(1)).default(['trustgate-admins']),
      /** Admin pages need group membership the IdP confirmed this recently (refresh or userinfo). */
      groupsMaxAge: duration.default(5 * 60_000),
    })
    .default({ groups: ['trustgate-admins'], groupsMaxAge: 5 * 60_000 }),
  posture: postureSchema.default(postureSchema.parse({})),
  deviceIdentity: deviceIdentitySchema.default(deviceIdentitySchema.parse({})),
  metrics: z
    .strictObject({
      /** Addresses or CIDR ranges allowed to read /.trustgate/metrics. */
      allowFrom: z.array(z.string().min(1)).default(['127.0.0.1', '::1']),
    })
    .default({ allowFrom: ['127.0.0.1', '::1'] }),
  logging: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .default({ level: 'info' }),
});

export type GatewayConfig = z.output<typeof configSchema>;
export type RouteConfig = GatewayConfig['routes'][number];
export type ListenerConfig = GatewayConfig['listeners'][number];
export type OidcConfig = GatewayConfig['oidc'];
export type SessionConfig = GatewayConfig['session'];
export type RevocationConfig = SessionConfig['revocation'];
export type DeviceRule = NonNullable<RouteConfig['device']>;
export type FleetConfig = NonNullable<GatewayConfig['fleet']>;
export type PostureConfig = GatewayConfig['posture'];
export type DeviceIdentityConfig = GatewayConfig['deviceIdentity'];
export type TrustRule = NonNullable<RouteConfig['minTrustScore']>;
export type OpaRule = NonNullable<RouteConfig['opa']>;
export type TrustConfig = NonNullable<GatewayConfig['trust']>;
export type BreakGlassRule = NonNullable<RouteConfig['breakGlass']>;
export type BreakGlassConfig = GatewayConfig['breakGlass'];
