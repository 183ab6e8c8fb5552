// Tells a top-level navigation (a person opening a page) from everything else a browser fetches: images,
// scripts, favicons, frames, XHR/fetch. Only a navigation may start a sign-in; the rest get 401, so a page
// full of sub-resources does not pile up sign-in attempts. https://www.w3.org/TR/fetch-metadata/
import type { IncomingMessage } from 'node:http';

export function isTopLevelNavigation(req: IncomingMessage): boolean {
  if (req.method !== 'GET') return false;
  const dest = headerText(req, 'sec-fetch-dest');
  const mode = headerText(req, 'sec-fetch-mode');
  if (headerText(req, 'x-requested-with') !== undefined) return false;
  // Fetch metadata (every current browser sends it, and page scripts cannot forge it): a top-level page is
  // Dest "document"; without Dest, Mode must be "navigate". Node's fetch always adds Mode "cors", so a
  // client that states Dest "document" is believed whatever its Mode.
  if (dest !== undefined) return dest === 'document';
  if (mode !== undefined) return mode === 'navigate';
  // Older clients: only a request that asks for HTML is taken for a page.
  return (headerText(req, 'accept') ?? '').includes('text/html');
}

function headerText(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value.join(',') : value).trim().toLowerCase();
}
