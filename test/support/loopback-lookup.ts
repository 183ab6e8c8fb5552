// Name resolution for test clients: "localhost" and every "*.localhost" name (the admin host in the tests,
// admin.localhost) resolve to 127.0.0.1, as browsers do (RFC 6761 §6.3); the system resolver may not.
import { lookup as systemLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { Agent } from 'undici';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

export function loopbackLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name !== 'localhost' && !name.endsWith('.localhost')) {
    systemLookup(hostname, { ...options, all: true }, (error, addresses) => (options.all ? callback(error, addresses) : callback(error, addresses[0]?.address ?? '', addresses[0]?.family)));
    return;
  }
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
}

/** Connect options that add the lookup above (merge into an undici Agent's `connect`). */
export const LOOPBACK_CONNECT = { lookup: loopbackLookup } as const;

/** The dispatcher BrowserClient uses unless a test gives its own. */
export const loopbackAgent = new Agent({ connect: LOOPBACK_CONNECT });
