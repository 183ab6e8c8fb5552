// Works out who the client is. X-Forwarded-* headers are believed only when the socket peer is one of
// the configured trusted proxies (default: none); from anyone else they are ignored and stripped.
import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

export interface TrustedProxies {
  contains(address: string): boolean;
}

export function createTrustedProxies(entries: readonly string[]): TrustedProxies {
  if (entries.length === 0) return { contains: () => false };
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return {
    contains(address) {
      const bare = unmapIpv4(address);
      const family = isIP(bare);
      if (family === 0) return false;
      return list.check(bare, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

export interface ClientView {
  clientAddress: string;
  protocol: 'http' | 'https';
  host: string;
  fromTrustedProxy: boolean;
}

/** The socket peer's address, IPv4-mapped IPv6 written as plain IPv4. */
export function peerAddress(req: IncomingMessage): string {
  return unmapIpv4(req.socket.remoteAddress ?? '');
}

export function clientView(req: IncomingMessage, trusted: TrustedProxies, listenerProtocol: 'http' | 'https'): ClientView {
  const peer = peerAddress(req);
  const host = (req.headers.host ?? '').toLowerCase();
  if (!trusted.contains(peer)) return { clientAddress: peer, protocol: listenerProtocol, host, fromTrustedProxy: false };
  // Walk X-Forwarded-For from the right, skipping our own trusted hops: the first untrusted one is the client.
  const hops = headerValue(req, 'x-forwarded-for').split(',').map((h) => h.trim()).filter(Boolean);
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    client = unmapIpv4(hops[i] as string);
    if (!trusted.contains(client)) break;
  }
  const proto = headerValue(req, 'x-forwarded-proto').split(',')[0]?.trim().toLowerCase();
  return {
    clientAddress: client,
    protocol: proto === 'https' || proto === 'http' ? proto : listenerProtocol,
    host: headerValue(req, 'x-forwarded-host').split(',')[0]?.trim().toLowerCase() || host,
    fromTrustedProxy: true,
  };
}

function headerValue(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : (value ?? '');
}

function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
