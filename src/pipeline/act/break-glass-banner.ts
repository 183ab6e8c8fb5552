// The small notice on pages opened under emergency access: HTML pages from the upstream get a fixed
// banner ("emergency access until …") added after <body>; everything else passes through untouched.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml } from '../../http/format-text.ts';

const MAX_HTML_BYTES = 5 * 1024 * 1024;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'proxy-connection', 'upgrade']);

export function bannerHtml(expiresAtMs: number): string {
  const until = new Date(expiresAtMs).toUTCString();
  return `<div id="trustgate-break-glass" role="status" style="position:fixed;left:0;right:0;bottom:0;z-index:2147483647;background:#c92a2a;color:#fff;font:14px/1.4 system-ui,sans-serif;padding:6px 12px;text-align:center">Emergency access until ${escapeHtml(until)}. Every request is recorded.</div>`;
}

/** Writes the upstream response to `res`, adding the banner to uncompressed HTML. */
export function relayWithBanner(proxyRes: IncomingMessage, res: ServerResponse, banner: string): void {
  const type = String(proxyRes.headers['content-type'] ?? '');
  const encoded = proxyRes.headers['content-encoding'] && proxyRes.headers['content-encoding'] !== 'identity';
  const headers = Object.entries(proxyRes.headers).filter(([name]) => !HOP_BY_HOP.has(name));
  for (const [name, value] of headers) if (value !== undefined) res.setHeader(name, value);
  if (!type.includes('text/html') || encoded) {
    res.writeHead(proxyRes.statusCode ?? 502);
    proxyRes.pipe(res);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  proxyRes.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_HTML_BYTES) chunks.push(chunk);
  });
  proxyRes.on('end', () => {
    const html = Buffer.concat(chunks).toString('utf8');
    const body = size > MAX_HTML_BYTES ? html : injectAfterBody(html, banner);
    res.setHeader('content-length', Buffer.byteLength(body));
    res.writeHead(proxyRes.statusCode ?? 502);
    res.end(body);
  });
  proxyRes.on('error', () => res.destroy());
}

function injectAfterBody(html: string, banner: string): string {
  const match = /<body\b[^>]*>/i.exec(html);
  return match ? `${html.slice(0, match.index + match[0].length)}${banner}${html.slice(match.index + match[0].length)}` : `${banner}${html}`;
}
