// The secret-strength rule: every secret a deployment needs (session secrets, the OIDC client secret, the
// Fleet token, audit and results-store credentials, any key named like a secret and any URL's password,
// wherever it sits) must be present, at least 32 bytes, not a value the
// repository ships, and not look like a placeholder; a gateway that listens only on loopback (the demo,
// the tests) is exempt. Like oauth2-proxy's cookie-secret check, the gateway refuses to start otherwise.
// Messages never repeat a secret's value (it may have come from the environment).
import type { ConfigProblem } from './config-problem.ts';

export const MIN_SECRET_BYTES = 32;
const MIN_DISTINCT_CHARACTERS = 12;
const PLACEHOLDER_WORDS = ['replace', 'change', 'example', 'placeholder', 'dummy', 'todo'] as const;

/** Values the repository's configs, deploy files, README, demo and test harness publish: never secret. */
export const PUBLISHED_SECRETS: ReadonlySet<string> = new Set([
  'replace-me',
  'replace-me-with-32-or-more-random-characters',
  'replace/me',
  'demo-client-secret-not-for-production',
  'demo-only-session-secret-0123456789abcdef',
  'demo-fleet-api-token',
  'dev-fleet-token',
  'test-session-secret-0123456789-abcdefghij',
  'test-client-secret',
  'test-fleet-token',
  'unit-test-session-secret-0123456789-abcdef',
  '...',
]);

export const GENERATE_HINT = 'generate one with `openssl rand -base64 48` and pass it through the environment';

/** Why `value` is not a usable secret; empty when it is fine. */
export function secretWeaknesses(value: string): string[] {
  if (value === '') return ['missing'];
  const reasons: string[] = [];
  if (PUBLISHED_SECRETS.has(value)) reasons.push('a value published in the Trustgate repository');
  if (Buffer.byteLength(value, 'utf8') < MIN_SECRET_BYTES) reasons.push(`shorter than ${MIN_SECRET_BYTES} bytes`);
  const lower = value.toLowerCase();
  const word = PLACEHOLDER_WORDS.find((w) => lower.includes(w));
  if (word) reasons.push(`looks like a placeholder (contains "${word}")`);
  if (new Set(value).size < MIN_DISTINCT_CHARACTERS) reasons.push(`fewer than ${MIN_DISTINCT_CHARACTERS} distinct characters`);
  return reasons;
}

/** The problem for a secret at `path`, or undefined when it is strong enough. `hint` says where a good one comes from. */
export function secretProblem(path: string, value: string | undefined, hint: string = GENERATE_HINT): ConfigProblem | undefined {
  const reasons = secretWeaknesses(value ?? '');
  if (reasons.length === 0) return undefined;
  // The first reason is the one to fix (missing, published, short, placeholder-like, low variety).
  return { path, message: `not a usable secret (${reasons[0]}): ${hint}` };
}

/** Listener addresses that only loopback clients can reach. */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

type Raw = Record<string, unknown>;
const obj = (value: unknown): Raw | undefined => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Raw) : undefined);

/** True when every listener (default address 127.0.0.1) is bound to loopback. */
export function listensOnlyOnLoopback(raw: Raw): boolean {
  const listeners = raw.listeners;
  if (!Array.isArray(listeners) || listeners.length === 0) return false;
  return listeners.every((l) => {
    const address = obj(l)?.address ?? '127.0.0.1';
    return typeof address === 'string' && isLoopbackAddress(address);
  });
}

const ISSUED = (who: string): string => `use the secret ${who} issued (at least ${MIN_SECRET_BYTES} bytes; where you choose it, generate it with \`openssl rand -base64 48\`), passed through the environment`;

/**
 * Every secret-bearing key of the (substituted, not yet validated) config, checked. Runs on the raw
 * values so weak secrets are reported together with schema problems, all at once.
 */
export function checkSecrets(raw: Raw): ConfigProblem[] {
  if (listensOnlyOnLoopback(raw)) return [];
  const problems: ConfigProblem[] = [];
  const checked = new Set<string>();
  const check = (path: string, value: unknown, hint?: string): void => {
    if (checked.has(path)) return;
    checked.add(path);
    if (value !== undefined && typeof value !== 'string') return; // the schema reports the wrong type
    const problem = secretProblem(path, value, hint);
    if (problem) problems.push(problem);
  };
  // Required secrets first: a missing one is a problem too, and each gets the hint for where it comes from.
  const session = obj(raw.session);
  const secrets = session?.secrets;
  if (Array.isArray(secrets) && secrets.length > 0) secrets.forEach((s, i) => check(`session.secrets[${i}]`, s));
  else if (session) check('session.secrets', undefined); // a missing section is the schema's to report
  const oidc = obj(raw.oidc);
  if (oidc) check('oidc.clientSecret', oidc.clientSecret, ISSUED('your OpenID Connect provider'));
  const fleet = obj(raw.fleet);
  if (fleet) check('fleet.apiToken', fleet.apiToken, ISSUED('Fleet (an API-only user, fleetctl user create --api-only)'));
  const trust = obj(raw.trust);
  const source = obj(trust?.source);
  if (source?.kind === 'elasticsearch') checkElasticCredentials(source, 'trust.source', check);
  const auditEs = obj(obj(obj(raw.breakGlass)?.audit)?.elasticsearch);
  if (auditEs) checkElasticCredentials(auditEs, 'breakGlass.audit.elasticsearch', check);
  // Then every other key anywhere in the config: one named like a secret, or a URL carrying a password
  // (Redis stores, Elasticsearch, webhooks, upstreams…), so a key added later cannot be forgotten here.
  walkStrings(raw, '', (path, key, value) => {
    if (SECRET_KEY_NAME.test(key)) check(path, value);
    else checkUrlPassword(value, path, problems, checked);
  });
  return problems;
}

/** Keys whose values are secrets wherever they appear (`secrets`, `clientSecret`, `apiToken`, `apiKey`, `password`…). */
export const SECRET_KEY_NAME = /(secret|token|password|apikey)s?$/i;

/** Calls `visit` for every string in the raw config with its path and the name of the key it sits under. */
function walkStrings(value: unknown, path: string, visit: (path: string, key: string, value: string) => void, key = ''): void {
  if (typeof value === 'string') visit(path, key, value);
  else if (Array.isArray(value)) value.forEach((item, i) => walkStrings(item, `${path}[${i}]`, visit, key));
  else if (obj(value)) for (const [name, item] of Object.entries(value as Raw)) walkStrings(item, path === '' ? name : `${path}.${name}`, visit, name);
}

function checkElasticCredentials(section: Raw, at: string, check: (path: string, value: unknown, hint?: string) => void): void {
  const hint = ISSUED('Elasticsearch');
  if (section.apiKey !== undefined) check(`${at}.apiKey`, section.apiKey, hint);
  if (section.password !== undefined || section.username !== undefined) check(`${at}.password`, section.password, hint);
}

/** A URL's password (redis://user:password@host, https://user:password@host), when it has one; the URL itself is never repeated. */
function checkUrlPassword(url: string, at: string, problems: ConfigProblem[], checked: Set<string>): void {
  // Any "@" after the scheme may end a user-info part, even one a stray "/" in the password hides from URL parsers.
  if (checked.has(at) || !/^[a-z][a-z0-9+.-]*:\/\/[^@\s]*@/i.test(url)) return;
  checked.add(at);
  let password: string;
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // A password with "/", "+" or "%" that is not percent-encoded breaks the URL: refuse it rather than
    // let its strength go unchecked (and the client misread the host).
    problems.push({ path: at, message: 'is not a valid URL: percent-encode its password, or use one made of URL-safe characters (`openssl rand -hex 32`)' });
    return;
  }
  if (password === '') return; // user only (or none): a store without a password is the operator's choice
  const problem = secretProblem(`${at}`, password, 'use a password of at least 32 random bytes in URL-safe characters (`openssl rand -hex 32`), passed through the environment');
  if (problem) problems.push({ path: at, message: `its password is ${problem.message}` });
}
