// A cookie-keeping BrowserClient that speaks HTTPS to the gateway with a trusted server CA and,
// optionally, a client (device) certificate — global fetch alone cannot present one.
import { Agent } from 'undici';
import { BrowserClient } from './browser-client.ts';
import { LOOPBACK_CONNECT } from './loopback-lookup.ts';
import type { PemPair } from './certificates.ts';

export interface TlsBrowser {
  client: BrowserClient;
  close(): Promise<void>;
}

/**
 * One undici Agent per client: connections (and the certificate they were opened with) are never shared
 * between clients, so each one is the device it claims to be. Plain-http hops (the IdP) use it too.
 */
export function tlsBrowser(serverCa: string, clientCertificate?: PemPair): TlsBrowser {
  const dispatcher = new Agent({
    connect: { ...LOOPBACK_CONNECT, ca: serverCa, ...(clientCertificate ? { cert: clientCertificate.cert, key: clientCertificate.key } : {}) },
  });
  return {
    client: new BrowserClient(Date.now, { dispatcher }),
    close: () => dispatcher.close(),
  };
}
