// Demo upstream behind the gateway: shows (HTML) or echoes (JSON, WebSocket) exactly what it received,
// so the demo can show the identity headers and integration tests can assert on what reached upstream.

import { closeServer, listen } from '../http/listen.ts';
import { escapeHtml } from '../http/format-text.ts';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WebSocketServer } from 'ws';

export interface DemoAppOptions {
  host?: string;
  port?: number;
}

export interface DemoApp {
  url: string;
  port: number;
  /** The latest requests and upgrades it received ("METHOD target"), oldest first, so tests can tell what got through. */
  received(): readonly string[];
  close(): Promise<void>;
}

/** What the JSON echo answers; integration tests parse this. */
export interface EchoResponse {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** Name/value pairs as received, so duplicates and order can be asserted on too. */
  rawHeaders: string[];
  body: string;
}

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_RECEIVED = 200;
const MAX_SLOW_MS = 60_000;


function headerText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

class BodyTooLargeError extends Error {}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError('request body over 1 MiB');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

function renderPage(req: IncomingMessage): string {
  const user = headerText(req.headers['x-trustgate-user']);
  const email = headerText(req.headers['x-trustgate-email']);
  const groups = headerText(req.headers['x-trustgate-groups']);
  const who = user
    ? `Signed in as <strong>${escapeHtml(user)}</strong> (${escapeHtml(email)}) · <a href="/.trustgate/logout">Sign out</a>`
    : 'No <code>X-Trustgate-User</code> header: this request did not come through the gateway.';
  const rows = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    rows.push(
      `<tr><th>${escapeHtml(req.rawHeaders[i] ?? '')}</th><td>${escapeHtml(req.rawHeaders[i + 1] ?? '')}</td></tr>`,
    );
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trustgate demo app</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1f2328; padding: 0 1rem; }
  table { border-collapse: collapse; width: 100%; font-size: .9rem; }
  th, td { border-bottom: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left; vertical-align: top; }
  th { white-space: nowrap; } td { font-family: ui-monospace, monospace; word-break: break-all; }
  .who { font-size: 1.1rem; }
</style></head>
<body>
<h1>Trustgate demo app</h1>
<p class="who">${who}</p>
<p>Groups: ${escapeHtml(groups || 'none')}</p>
<p>Request: <code>${escapeHtml(req.method ?? '')} ${escapeHtml(req.url ?? '')}</code></p>
<h2>Headers received</h2>
<table>${rows.join('\n')}</table>
</body></html>`;
}

function wantsHtml(req: IncomingMessage, path: string): boolean {
  if (path.startsWith('/echo')) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const accept = headerText(req.headers.accept);
  return accept.includes('text/html') && !accept.includes('application/json');
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://demo.invalid');
  const path = url.pathname;

  if (path === '/public' || path.startsWith('/public/')) {
    return send(res, 200, 'text/plain; charset=utf-8', 'public');
  }

  const status = /^\/status\/(\d{3})$/.exec(path)?.[1];
  if (status !== undefined) {
    const code = Number(status);
    if (code < 200 || code > 599) return send(res, 400, 'text/plain; charset=utf-8', 'status must be 200-599');
    if (code === 204 || code === 304) {
      res.writeHead(code);
      res.end();
      return;
    }
    return send(res, code, 'text/plain; charset=utf-8', `status ${code}`);
  }

  if (path === '/slow') {
    const ms = Math.min(Math.max(Number(url.searchParams.get('ms') ?? 0) || 0, 0), MAX_SLOW_MS);
    const gone = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      // The gateway giving up must not leave a timer holding the process open.
      res.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (gone) return;
  }

  let body: string;
  try {
    body = await readBody(req);
  } catch (err) {
    if (err instanceof BodyTooLargeError) return send(res, 413, 'text/plain; charset=utf-8', 'body over 1 MiB');
    throw err;
  }

  if (wantsHtml(req, path)) return send(res, 200, 'text/html; charset=utf-8', renderPage(req));

  const echo: EchoResponse = {
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    body,
  };
  return send(res, 200, 'application/json; charset=utf-8', JSON.stringify(echo));
}

export async function startDemoApp(options: DemoAppOptions = {}): Promise<DemoApp> {
  const host = options.host ?? '127.0.0.1';
  const wss = new WebSocketServer({ noServer: true });

  wss.on('connection', (ws, req: IncomingMessage) => {
    ws.send(JSON.stringify({ type: 'hello', headers: req.headers, url: req.url ?? '' }));
    ws.on('message', (data, isBinary) => {
      const payload = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (isBinary) ws.send(Buffer.concat([Buffer.from('echo:'), payload]), { binary: true });
      else ws.send(`echo:${payload.toString('utf8')}`);
    });
  });

  const received: string[] = [];
  const note = (req: IncomingMessage): void => {
    received.push(`${req.method ?? ''} ${req.url ?? ''}`);
    if (received.length > MAX_RECEIVED) received.shift();
  };

  const server = createServer((req, res) => {
    note(req);
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'demo app error');
      else res.destroy();
    });
  });

  server.on('upgrade', (req, socket, head) => {
    note(req);
    const path = new URL(req.url ?? '/', 'http://demo.invalid').pathname;
    if (path !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const port = await listen(server, options.port ?? 0, host);
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    received: () => [...received],
    close() {
      // Upgraded sockets are no longer tracked by the http server, so end them here.
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      return closeServer(server);
    },
  };
}
