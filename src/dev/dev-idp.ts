// Development OpenID Provider (oidc-provider) with a pick-a-demo-user sign-in page, for the embedded
// demo and for integration tests. Never for production: no passwords, keys and state live in memory.

import { closeServer, listen } from '../http/listen.ts';
import { escapeHtml } from '../http/format-text.ts';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { inspect } from 'node:util';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface DevUser {
  id: string;
  email: string;
  name: string;
  groups: string[];
  /** Shown on the sign-in page; says which device situation the user demonstrates. */
  description?: string;
}

// Ids are stable because the demo's Fleet fixtures and the tests key on them.
export const DEMO_USERS: DevUser[] = [
  {
    id: 'alice',
    email: 'alice@example.com',
    name: 'Alice Anders',
    groups: ['engineering', 'trustgate-admins'],
    description: 'compliant laptop',
  },
  {
    id: 'bob',
    email: 'bob@example.com',
    name: 'Bob Brandt',
    groups: ['engineering'],
    description: 'laptop failing disk encryption',
  },
  {
    id: 'carol',
    email: 'carol@example.com',
    name: 'Carol Chen',
    groups: ['engineering'],
    description: 'laptop with a new policy that has no result yet',
  },
  {
    id: 'dave',
    email: 'dave@example.com',
    name: 'Dave Diaz',
    groups: ['sales'],
    description: 'laptop not seen for days',
  },
  {
    id: 'erin',
    email: 'erin@contractor.example',
    name: 'Erin Evans',
    groups: ['contractors'],
    description: 'contractor, not in any allowed group',
  },
];

export interface DevIdpClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** Where the IdP POSTs logout tokens when a user's IdP session ends (Back-Channel Logout); sid is always sent. */
  backchannelLogoutUri?: string;
  /** openid-client's default is client_secret_post, so that is ours too. */
  tokenEndpointAuthMethod?: 'client_secret_post' | 'client_secret_basic';
}

export interface DevIdpOptions {
  host?: string;
  port?: number;
  /** Issuer to advertise when browsers reach the IdP by another address than host:port. */
  publicUrl?: string;
  users?: DevUser[];
  accessTokenTtlSeconds?: number;
  /** Defaults to the access token TTL. */
  idTokenTtlSeconds?: number;
  refreshTokenTtlSeconds?: number;
  /** Issue refresh tokens (default true); false models IdPs that only do so for offline_access. */
  refreshTokens?: boolean;
  log?: (msg: string) => void;
}

export interface DevIdp {
  /** e.g. http://127.0.0.1:PORT, no trailing slash. */
  issuer: string;
  port: number;
  /** Adds (or replaces, by clientId) a client and rebuilds the provider with it. */
  registerClient(client: DevIdpClient): void;
  /** Forgets every session, grant and token: refreshes fail and everyone must sign in again. */
  revokeAll(): void;
  /** Changes a user's groups from now on (new ID tokens, refreshes, userinfo), e.g. to remove an admin. */
  setUserGroups(userId: string, groups: string[]): void;
  /** Signs claims with the IdP's own key (RS256, its kid): tests forge logout tokens with it. */
  signJwt(claims: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

// oidc-provider ships no type declarations; these describe only the parts used here.
interface Grant {
  accountId?: string;
  addOIDCScope(scope: Set<string>): void;
  addOIDCClaims(claims: Set<string>): void;
  save(): Promise<string>;
}

interface Provider {
  callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<{ uid: string; prompt: { name: string } }>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options: { mergeWithLastSubmission: boolean },
  ): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  Grant: {
    new (init: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
  };
}

type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => Provider;

interface LoadGrantContext {
  oidc: {
    client: { clientId: string };
    session: { accountId?: string; grantIdFor(clientId: string): string | undefined };
    result?: { consent?: { grantId?: string } };
    requestParamOIDCScopes: Set<string>;
    requestParamClaims: Set<string>;
    provider: Provider;
  };
}

interface KoaLikeContext {
  type: string;
  body: unknown;
  host: string;
}

// --- storage -------------------------------------------------------------------------------------

// One store per IdP, outliving provider rebuilds: registering a second client must not sign
// everyone out. (The built-in memory adapter is per Provider instance and warns on every start.)
interface StoredEntry {
  payload: Record<string, unknown>;
  expiresAt: number;
}

function createStore() {
  const entries = new Map<string, StoredEntry>();
  const get = (key: string): Record<string, unknown> | undefined => {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry.payload;
  };
  return { entries, get };
}

type Store = ReturnType<typeof createStore>;

// The token kinds revoked along with their grant, as in oidc-provider's own memory adapter.
const GRANT_BOUND_MODELS = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

function adapterFactory(store: Store) {
  return (model: string) => {
    const key = (id: string) => `${model}:${id}`;
    return {
      async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
        const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
        store.entries.set(key(id), { payload, expiresAt });
      },
      async find(id: string) {
        return store.get(key(id));
      },
      async findByUid(uid: string) {
        for (const [k, entry] of store.entries) {
          if (k.startsWith(`${model}:`) && entry.payload['uid'] === uid) return store.get(k);
        }
        return undefined;
      },
      async findByUserCode(userCode: string) {
        for (const [k, entry] of store.entries) {
          if (k.startsWith(`${model}:`) && entry.payload['userCode'] === userCode) return store.get(k);
        }
        return undefined;
      },
      async consume(id: string) {
        const payload = store.get(key(id));
        if (payload) payload['consumed'] = Math.floor(Date.now() / 1000);
      },
      async destroy(id: string) {
        store.entries.delete(key(id));
      },
      async revokeByGrantId(grantId: string) {
        for (const [k, entry] of store.entries) {
          const entryModel = k.slice(0, k.indexOf(':'));
          if (GRANT_BOUND_MODELS.has(entryModel) && entry.payload['grantId'] === grantId) store.entries.delete(k);
        }
      },
    };
  };
}

// --- HTML ----------------------------------------------------------------------------------------


const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f4f5f7; color: #1f2328; margin: 0; }
  main { max-width: 34rem; margin: 3rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px;
         box-shadow: 0 1px 3px rgba(0,0,0,.15); }
  h1 { font-size: 1.3rem; margin-top: 0; }
  p.note { color: #57606a; font-size: .9rem; }
  button.user { display: block; width: 100%; text-align: left; padding: .7rem 1rem; margin: .5rem 0;
                border: 1px solid #d0d7de; border-radius: 6px; background: #f6f8fa; cursor: pointer; font: inherit; }
  button.user:hover { background: #eaeef2; }
  .email { font-weight: 600; } .meta { color: #57606a; font-size: .85rem; }
  button.secondary { margin-top: 1rem; padding: .4rem 1rem; border: 1px solid #d0d7de; border-radius: 6px;
                     background: #fff; cursor: pointer; font: inherit; }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

function loginPage(uid: string, users: DevUser[]): string {
  const action = `/interaction/${encodeURIComponent(uid)}`;
  const buttons = users
    .map(
      (user) => `<button class="user" type="submit" name="user" value="${escapeHtml(user.id)}">
  <span class="email">${escapeHtml(user.email)}</span> &middot; ${escapeHtml(user.name)}<br>
  <span class="meta">groups: ${escapeHtml(user.groups.join(', ') || 'none')}${
    user.description ? ` &middot; ${escapeHtml(user.description)}` : ''
  }</span>
</button>`,
    )
    .join('\n');
  return page(
    'Trustgate development sign-in',
    `<h1>Trustgate development sign-in</h1>
<p class="note">Development identity provider: pick a demo user. No password is asked.</p>
<form method="post" action="${escapeHtml(action)}/login">
${buttons}
</form>
<form method="post" action="${escapeHtml(action)}/abort">
<button class="secondary" type="submit">Cancel</button>
</form>`,
  );
}

// The confirmation is pre-answered "yes" and auto-submitted: a dev IdP has no reason to ask.
// Scriptless clients (tests) can POST the form themselves: it carries xsrf and logout=yes.
function logoutPage(form: string): string {
  const withYes = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
  return page(
    'Signing out',
    `<h1>Signing out of the development IdP</h1>
${withYes}
<button class="secondary" type="submit" form="op.logoutForm">Sign out</button>
<script>document.getElementById('op.logoutForm').submit();</script>`,
  );
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(html),
  });
  res.end(html);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readForm(req: IncomingMessage, limit = 16 * 1024): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error('form body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// --- provider ------------------------------------------------------------------------------------

function buildConfiguration(deps: {
  clients: DevIdpClient[];
  users: Map<string, DevUser>;
  store: Store;
  cookieKeys: string[];
  jwks: { keys: Record<string, unknown>[] };
  accessTokenTtlSeconds: number;
  idTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  refreshTokens: boolean;
}): Record<string, unknown> {
  const { users } = deps;
  return {
    adapter: adapterFactory(deps.store),
    jwks: deps.jwks,
    cookies: { keys: deps.cookieKeys },
    clients: deps.clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris,
      ...(client.backchannelLogoutUri ? { backchannel_logout_uri: client.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: client.tokenEndpointAuthMethod ?? 'client_secret_post',
    })),
    scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    // The gateway reads email and groups straight from the id_token.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    responseTypes: ['code'],
    issueRefreshToken: async () => deps.refreshTokens,
    rotateRefreshToken: true,
    // Back-channel logout tokens go to a gateway on loopback, which oidc-provider's SSRF guard (its own
    // dispatcher) refuses; a development IdP only ever talks to local clients, so use the plain fetch.
    fetch: (url: string | URL, options: RequestInit & { dispatcher?: unknown }) => {
      const { dispatcher: _guard, ...plain } = options;
      return globalThis.fetch(url, plain);
    },
    // Nothing here is called from browsers cross-origin.
    clientBasedCORS: () => false,
    async findAccount(_ctx: unknown, sub: string) {
      const user = users.get(sub);
      if (!user) return undefined;
      return {
        accountId: user.id,
        async claims() {
          return { sub: user.id, email: user.email, email_verified: true, name: user.name, groups: [...user.groups] };
        },
      };
    },
    // First-party client: grant whatever OIDC scopes and claims it asks for, so the only
    // interaction ever shown is the sign-in page (no consent screen).
    async loadExistingGrant(ctx: LoadGrantContext) {
      const { oidc } = ctx;
      const accountId = oidc.session.accountId;
      if (!accountId) return undefined;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(oidc.client.clientId);
      let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
      if (!grant || grant.accountId !== accountId) {
        grant = new oidc.provider.Grant({ accountId, clientId: oidc.client.clientId });
      }
      if (oidc.requestParamOIDCScopes.size > 0) grant.addOIDCScope(oidc.requestParamOIDCScopes);
      if (oidc.requestParamClaims.size > 0) grant.addOIDCClaims(oidc.requestParamClaims);
      await grant.save();
      return grant;
    },
    // Numbers rather than the default functions, which also print a "you SHOULD change" notice.
    ttl: {
      AccessToken: deps.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: deps.idTokenTtlSeconds,
      RefreshToken: deps.refreshTokenTtlSeconds,
      Interaction: 60 * 60,
      Session: 24 * 60 * 60,
      Grant: Math.max(deps.refreshTokenTtlSeconds, 24 * 60 * 60),
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true, allowedPolicy: async () => true },
      // Ending the IdP session POSTs a logout token (with sid) to each client's backchannel_logout_uri.
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx: KoaLikeContext, form: string) {
          ctx.type = 'html';
          ctx.body = logoutPage(form);
        },
        async postLogoutSuccessSource(ctx: KoaLikeContext) {
          ctx.type = 'html';
          ctx.body = page('Signed out', '<h1>Signed out</h1><p>You have signed out of the development IdP.</p>');
        },
      },
    },
    async renderError(ctx: KoaLikeContext, out: Record<string, string>) {
      ctx.type = 'html';
      const rows = Object.entries(out)
        .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(String(value))}</p>`)
        .join('');
      ctx.body = page('Sign-in error', `<h1>Sign-in error</h1>${rows}`);
    },
  };
}

function generateSigningKey(): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

function formatIssuer(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

export async function startDevIdp(options: DevIdpOptions = {}): Promise<DevIdp> {
  const host = options.host ?? '127.0.0.1';
  const users = new Map((options.users ?? DEMO_USERS).map((user) => [user.id, user]));
  const accessTokenTtlSeconds = options.accessTokenTtlSeconds ?? 3600;
  const idTokenTtlSeconds = options.idTokenTtlSeconds ?? accessTokenTtlSeconds;
  const refreshTokenTtlSeconds = options.refreshTokenTtlSeconds ?? 24 * 60 * 60;
  const log = options.log;

  // Loaded lazily so that importing this module (e.g. from main.ts) does not need the
  // devDependency unless the development IdP is actually started.
  // @ts-expect-error -- oidc-provider ships no type declarations; see the local interfaces above.
  const oidcModule: unknown = await import('oidc-provider');
  const { Provider: ProviderClass } = oidcModule as { Provider: ProviderConstructor };

  // Per start, shared by every rebuild so cookies and tokens stay valid across registerClient.
  const store = createStore();
  const cookieKeys = [randomBytes(32).toString('base64url')];
  const jwks = { keys: [generateSigningKey()] };
  const clients = new Map<string, DevIdpClient>();

  let provider: Provider | undefined;
  let providerHandler: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;

  async function handleInteraction(req: IncomingMessage, res: ServerResponse, current: Provider, path: string) {
    const match = /^\/interaction\/([^/]+)(?:\/(login|abort))?$/.exec(path);
    const uid = match?.[1];
    const action = match?.[2];
    if (!match || !uid) return sendHtml(res, 404, page('Not found', '<h1>Not found</h1>'));

    let details: { uid: string };
    try {
      details = await current.interactionDetails(req, res);
    } catch {
      return sendHtml(
        res,
        400,
        page('Sign-in expired', '<h1>This sign-in request has expired</h1><p>Go back to the application and try again.</p>'),
      );
    }
    if (details.uid !== uid) {
      return sendHtml(res, 400, page('Sign-in mismatch', '<h1>This sign-in request does not match your browser</h1>'));
    }

    if (action === undefined) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'method not allowed');
      return sendHtml(res, 200, loginPage(uid, [...users.values()]));
    }
    if (req.method !== 'POST') return sendText(res, 405, 'method not allowed');

    if (action === 'abort') {
      return current.interactionFinished(
        req,
        res,
        // OAuth 2.0's own error code (RFC 6749 §4.1.2.1), sent back to the client by the provider.
        { error: 'access_denied', error_description: 'End-User aborted interaction' },
        { mergeWithLastSubmission: false },
      );
    }

    const form = await readForm(req);
    const accountId = form.get('user') ?? '';
    if (!users.has(accountId)) {
      return sendHtml(res, 400, page('Unknown user', `<h1>Unknown user</h1><p>No demo user "${escapeHtml(accountId)}".</p>`));
    }
    return current.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
  }

  const server = createServer((req, res) => {
    const current = provider;
    const handler = providerHandler;
    if (!current || !handler) {
      sendText(res, 503, 'development IdP has no registered client yet');
      return;
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const work = path.startsWith('/interaction/') ? handleInteraction(req, res, current, path) : handler(req, res);
    work.catch((err: unknown) => {
      log?.(`dev-idp: ${req.method} ${path} failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) sendText(res, 500, 'development IdP error');
      else res.destroy();
    });
  });

  const port = await listen(server, options.port ?? 0, host);
  const issuer = (options.publicUrl ?? formatIssuer(host, port)).replace(/\/+$/, '');

  function rebuild(): void {
    const next = new ProviderClass(
      issuer,
      buildConfiguration({
        clients: [...clients.values()],
        users,
        store,
        cookieKeys,
        jwks,
        accessTokenTtlSeconds,
        idTokenTtlSeconds,
        refreshTokenTtlSeconds,
        refreshTokens: options.refreshTokens ?? true,
      }),
    );
    // Without a listener Koa prints these itself; route them to the caller's log or drop them.
    next.on('server_error', (_ctx: unknown, err: unknown) => {
      log?.(`dev-idp: server_error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    });
    next.on('backchannel.error', (_ctx: unknown, err: unknown, client: unknown) => {
      log?.(`dev-idp: back-channel logout to ${(client as { clientId?: string } | undefined)?.clientId ?? '?'} failed: ${err instanceof Error ? `${err.message} ${err.cause === undefined ? '' : inspect(err.cause)}` : String(err)}`);
    });
    next.on('error', (err: unknown) => {
      log?.(`dev-idp: error: ${err instanceof Error ? err.message : String(err)}`);
    });
    provider = next;
    providerHandler = next.callback();
  }

  return {
    issuer,
    port,
    registerClient(client) {
      clients.set(client.clientId, { ...client });
      rebuild();
    },
    revokeAll() {
      store.entries.clear();
    },
    setUserGroups(userId, groups) {
      const user = users.get(userId);
      if (!user) throw new Error(`no demo user "${userId}"`);
      users.set(userId, { ...user, groups: [...groups] });
    },
    async signJwt(claims) {
      const { importJWK, SignJWT } = await import('jose');
      const jwk = jwks.keys[0] as { kid: string };
      const key = await importJWK(jwk as Parameters<typeof importJWK>[0], 'RS256');
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: jwk.kid }).sign(key);
    },
    close() {
      return closeServer(server);
    },
  };
}
