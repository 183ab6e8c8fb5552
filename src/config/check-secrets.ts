// The secret-strength rule: every secret a deployment needs (session secrets, the OIDC client secret, the
// Fleet token, audit and results-store credentials) must be present, at least 32 bytes, not a value the
// repository ships, and not look like a placeholder; a gateway that listens only on loopback (the demo,
// the tests) is exempt. Like oauth2-proxy's cookie-secret check, the gateway refuses to start otherwise.
// Messages never repeat a secret's value (it may have come from the environment).
import type { ConfigProblem } from './load-config.ts';

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
  const check = (path: string, value: unknown, hint?: string): void => {
    if (value !== undefined && typeof value !== 'string') return; // the schema reports the wrong type
    const problem = secretProblem(path, value, hint);
    if (problem) problems.push(problem);
  };
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
  const breakGlass = obj(raw.breakGlass);
  const audit = obj(breakGlass?.audit);
  const auditEs = obj(audit?.elasticsearch);
  if (auditEs) checkElasticCredentials(auditEs, 'breakGlass.audit.elasticsearch', check);
  checkRedisUrl(obj(trust?.learnedStore)?.url, 'trust.learnedStore.url', problems);
  checkRedisUrl(obj(breakGlass?.store)?.url, 'breakGlass.store.url', problems);
  return problems;
}

function checkElasticCredentials(section: Raw, at: string, check: (path: string, value: unknown, hint?: string) => void): void {
  const hint = ISSUED('Elasticsearch');
  if (section.apiKey !== undefined) check(`${at}.apiKey`, section.apiKey, hint);
  if (section.password !== undefined || section.username !== undefined) check(`${at}.password`, section.password, hint);
}

/** A Redis URL's password (redis://user:password@host), when it has one; the URL itself is never repeated. */
function checkRedisUrl(url: unknown, at: string, problems: ConfigProblem[]): void {
  if (typeof url !== 'string') return;
  let password: string;
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return; // the schema judges the URL
  }
  if (password === '') return;
  const problem = secretProblem(`${at}`, password, 'use a Redis password of at least 32 random bytes (`openssl rand -base64 48`), passed through the environment');
  if (problem) problems.push({ path: at, message: `its password is ${problem.message}` });
}
