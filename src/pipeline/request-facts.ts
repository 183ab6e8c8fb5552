// The facts about one request that the stages up to the decision read — no proxy, no response, no
// mutable context — so a decision API can build them from its own input (`requestFactsOf` in
// evaluate-request.ts reads them off a proxied request).
import type { IncomingHttpHeaders } from 'node:http';
import type { NormalizedTarget } from '../http/normalize-path.ts';

export interface RequestFacts {
  readonly id: string;
  readonly method: string;
  /** Host header as sent (lower-cased), e.g. "app.example.com:8443". */
  readonly host: string;
  /** The normalised path and query decided on. */
  readonly target: NormalizedTarget;
  readonly clientAddress: string;
  /** The socket peer is a configured trusted proxy, so its forwarded headers (client certificate) count. */
  readonly fromTrustedProxy: boolean;
  readonly protocol: 'http' | 'https';
  /** Cookies, the forwarded client certificate, the browser's fingerprint headers. */
  readonly headers: IncomingHttpHeaders;
  /** The TLS socket whose handshake holds the client certificate (mTLS); anything else means none. */
  readonly connection: unknown;
  /** Cookies set for this request are marked Secure. */
  readonly secureCookies: boolean;
}
