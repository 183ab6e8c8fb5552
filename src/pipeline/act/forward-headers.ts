// Rewrites the headers an upstream receives: inbound copies of every header the gateway sets, or that
// any common gateway uses for identity or client facts, are removed in every spelling a backend could
// fold into the same name (header-filter.ts), the gateway's cookies are dropped, and identity and
// X-Forwarded-* are set by the gateway alone.
import type { IncomingHttpHeaders } from 'node:http';
import type { Session } from '../identify-user/session-cookie.ts';
import type { HeaderFilter } from './header-filter.ts';

/** Connection options that may pass; any other token names a header to drop (RFC 9110 §7.6.1). */
const CONNECTION_OPTIONS = new Set(['keep-alive', 'close', 'upgrade']);

export interface ForwardFacts {
  requestId: string;
  /** The socket peer, appended to X-Forwarded-For (the client itself unless it is a trusted proxy). */
  peerAddress: string;
  protocol: 'http' | 'https';
  host: string;
  /** Inbound X-Forwarded-For, kept only when the peer is a trusted proxy. */
  trustedForwardedFor: string | undefined;
  session: Session | undefined;
  /** Fleet host UUID(s) and the posture outcome, when the route checks devices. */
  device: { id: string; posture: string } | undefined;
  /** The break-glass grant the request goes through under, if any. */
  grant: { id: string; expiresAtMs: number } | undefined;
  /** Cookie names that belong to the gateway and never reach the upstream. */
  ownCookies: readonly string[];
  /**
   * What to strip, built once per config: the protected names, stripHeaders and the device-certificate
   * header (consumed by the gateway, so dropped whether forged or from a trusted proxy).
   */
  filter: HeaderFilter;
}

export function rewriteHeaders(headers: IncomingHttpHeaders, facts: ForwardFacts): void {
  stripConnectionListed(headers);
  for (const name of Object.keys(headers)) {
    if (facts.filter.strips(name)) delete headers[name];
  }
  const cookie = stripCookies(headers.cookie, facts.ownCookies);
  if (cookie) headers.cookie = cookie;
  else delete headers.cookie;

  headers['x-forwarded-for'] = facts.trustedForwardedFor ? `${facts.trustedForwardedFor}, ${facts.peerAddress}` : facts.peerAddress;
  headers['x-forwarded-proto'] = facts.protocol;
  headers['x-forwarded-host'] = facts.host;
  headers['x-request-id'] = facts.requestId;
  if (facts.session) Object.assign(headers, identityHeaders(facts.session));
  if (facts.grant) {
    headers['x-trustgate-break-glass'] = facts.grant.id;
    headers['x-trustgate-break-glass-until'] = new Date(facts.grant.expiresAtMs).toISOString();
  }
  if (facts.device) {
    if (facts.device.id) headers['x-trustgate-device'] = headerSafe(facts.device.id);
    headers['x-trustgate-posture'] = facts.device.posture;
  }
}

/**
 * A client could list our identity headers in Connection so that a proxy behind us deletes them. And a
 * request that is not an upgrade carries no Upgrade header on: an upstream that switched to h2c on it
 * would take HTTP/2 requests past every path rule.
 */
function stripConnectionListed(headers: IncomingHttpHeaders): void {
  const connection = headers.connection;
  let upgrading = false;
  if (connection && connection !== 'keep-alive' && connection !== 'close') {
    const kept: string[] = [];
    for (const token of connection.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean)) {
      if (CONNECTION_OPTIONS.has(token)) kept.push(token);
      else delete headers[token];
    }
    upgrading = kept.includes('upgrade');
    if (kept.length > 0) headers.connection = kept.join(', ');
    else delete headers.connection;
  }
  if (!upgrading) {
    delete headers.upgrade;
    delete headers['http2-settings'];
  }
}

function stripCookies(header: string | undefined, own: readonly string[]): string | undefined {
  if (!header) return undefined;
  const kept = header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => {
      if (part === '') return false;
      const name = part.slice(0, part.indexOf('=') === -1 ? part.length : part.indexOf('='));
      return !own.some((ownName) => name === ownName || name.startsWith(`${ownName}_`));
    });
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/** Percent-encodes what a header may not carry (non-ASCII, controls), so claims can never inject headers. */
function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]|%/gu, (c) => encodeURIComponent(c));
}

// Sessions are immutable and cached by cookie, so their header values are worked out once per session.
const identityMemo = new WeakMap<Session, Readonly<Record<string, string>>>();

function identityHeaders(session: Session): Readonly<Record<string, string>> {
  let found = identityMemo.get(session);
  if (!found) {
    found = Object.freeze({
      'x-trustgate-user': headerSafe(session.sub),
      'x-trustgate-email': headerSafe(session.email),
      'x-trustgate-groups': session.groups.map((g) => headerSafe(g).replace(/,/g, '%2C')).join(','),
    });
    identityMemo.set(session, found);
  }
  return found;
}
