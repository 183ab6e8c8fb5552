// Byte-exact HTTP/1.1 requests for tests: the request target and every header name are sent as written
// (fetch would normalise the path and fold header spellings together), plus a bare-socket variant.
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { loopbackLookup } from './loopback-lookup.ts';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RawRequestOptions {
  method?: string;
  /** Name/value pairs sent in this order and spelling; a Host header is added unless one is given. */
  headers?: [string, string][];
  body?: string;
}

/** Sends `target` verbatim as the request target to the server at `baseUrl` (e.g. http://127.0.0.1:PORT). */
export function rawRequest(baseUrl: string, target: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  const base = new URL(baseUrl);
  const pairs = options.headers ?? [];
  const hasHost = pairs.some(([name]) => name.toLowerCase() === 'host');
  const flat = [...(hasHost ? [] : ['Host', base.host]), ...pairs.flat()];
  if (options.body !== undefined) flat.push('Content-Length', String(Buffer.byteLength(options.body)));
  return new Promise((resolve, reject) => {
    const req = request({
      host: base.hostname,
      port: base.port,
      method: options.method ?? 'GET',
      path: target,
      headers: flat,
      agent: false,
      // *.localhost (the admin host) is loopback, as browsers resolve it.
      lookup: loopbackLookup,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.end(options.body);
  });
}

/** Writes `head` (request line and headers, CRLF-separated, without the blank line) on a bare socket and returns all the server sent back. */
export function socketRequest(baseUrl: string, head: string): Promise<string> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ port: Number(base.port), host: base.hostname, lookup: loopbackLookup }, () => socket.write(`${head}\r\nConnection: close\r\n\r\n`, 'latin1'));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

export interface ByteResponse {
  /** Everything the server sent, as latin1 text. */
  text: string;
  status: number;
  headers: Record<string, string>;
  body: string;
  /** False when the server kept the socket open past `timeoutMs` without closing it. */
  closedByServer: boolean;
}

/** Writes `bytes` exactly as given on a bare socket and collects the answer until the server closes. */
export function sendBytes(baseUrl: string, bytes: string, timeoutMs = 5_000): Promise<ByteResponse> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(base.port), base.hostname, () => socket.write(bytes, 'latin1'));
    const chunks: Buffer[] = [];
    let closedByServer = true;
    const timer = setTimeout(() => {
      closedByServer = false;
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = (split === -1 ? text : text.slice(0, split)).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ text, status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: split === -1 ? '' : text.slice(split + 4), closedByServer });
    });
  });
}
