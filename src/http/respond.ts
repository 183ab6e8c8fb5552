// Everything the gateway itself answers: ejs pages (compiled once at start), JSON for API clients,
// redirects and error responses. Every answer carries the request id and pending Set-Cookie headers;
// 5xx answers never show internals.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';
import ejs from 'ejs';
import { GatewayError, toGatewayError } from '../errors.ts';
import type { RequestContext } from '../pipeline/request-context.ts';

const VIEWS_DIR = fileURLToPath(new URL('../../views/', import.meta.url));
const VIEW_NAMES = ['error', 'access-denied', 'access-denied-device', 'device-warning', 'signed-out', 'sign-out', 'admin-sessions', 'break-glass', 'break-glass-granted', 'admin-grants',
  'admin-routes', 'admin-route-form', 'admin-route-preview', 'admin-conflict', 'admin-history', 'admin-decisions'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

type Template = (data: Record<string, unknown>) => string;
const templates = new Map<ViewName, Template>(
  VIEW_NAMES.map((name) => {
    const filename = `${VIEWS_DIR}${name}.ejs`;
    return [name, ejs.compile(readFileSync(filename, 'utf8'), { filename, strict: false })];
  }),
);

const PAGE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: under no-referrer Chromium posts the page's own forms with
  // `Origin: null`, which the CSRF check must refuse (test/e2e/device-fix-flow.test.ts).
  'referrer-policy': 'same-origin',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

/** True when the client prefers JSON (API clients, fetch/XHR) over an HTML page. */
export function wantsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const json = accept.includes('application/json') || accept.includes('+json');
  return json && !accept.includes('text/html');
}

function begin(ctx: RequestContext, status: number, contentType: string): ServerResponse | undefined {
  const res = ctx.res;
  if (!res || res.headersSent) return undefined;
  res.statusCode = status;
  res.setHeader('content-type', contentType);
  res.setHeader('x-request-id', ctx.id);
  for (const [name, value] of Object.entries(PAGE_HEADERS)) res.setHeader(name, value);
  if (ctx.setCookies.length > 0) res.setHeader('set-cookie', ctx.setCookies);
  return res;
}

/**
 * `formActions`: origins besides 'self' a form on the page may end up at. Browsers apply CSP form-action
 * to the redirects after a submission too (the sign-out form is answered with a redirect to the IdP).
 */
export function sendPage(ctx: RequestContext, status: number, view: ViewName, data: Record<string, unknown>, options: { formActions?: readonly string[] } = {}): void {
  const res = begin(ctx, status, 'text/html; charset=utf-8');
  if (!res) return;
  if (options.formActions?.length) {
    res.setHeader('content-security-policy', PAGE_HEADERS['content-security-policy'].replace("form-action 'self'", `form-action 'self' ${options.formActions.join(' ')}`));
  }
  const template = templates.get(view) as Template;
  res.end(template({ requestId: ctx.id, user: ctx.session ?? null, ...data }));
}

export function sendJson(ctx: RequestContext, status: number, body: Record<string, unknown>): void {
  const res = begin(ctx, status, 'application/json; charset=utf-8');
  res?.end(JSON.stringify({ ...body, requestId: ctx.id }));
}

export function redirect(ctx: RequestContext, location: string): void {
  const res = begin(ctx, 302, 'text/plain; charset=utf-8');
  if (!res) return;
  res.setHeader('location', location);
  res.end();
}

export interface ErrorAction {
  label: string;
  href: string;
}

/** Answers with an error page or JSON. Unexpected errors are logged with their stack, never shown. */
export function sendError(ctx: RequestContext, thrown: unknown, actions: ErrorAction[] = []): void {
  const error = toGatewayError(thrown);
  if (error.code === 'TG_ERR_REAUTH_REQUIRED' && actions.length === 0) actions = [signInAgain(ctx)];
  const shown = error.expose && error.status < 500 ? error.message : publicMessage(error);
  if (error.status >= 500) {
    ctx.runtime.log.error({ requestId: ctx.id, code: error.code, err: error.cause ?? error }, error.message);
  }
  if (ctx.res?.headersSent) {
    ctx.res.destroy();
    return;
  }
  if (wantsJson(ctx.req.headers.accept)) {
    sendJson(ctx, error.status, { error: error.code, title: error.title, message: shown, ...safeDetails(error) });
    return;
  }
  sendPage(ctx, error.status, 'error', { status: error.status, title: error.title, message: shown, actions, reason: safeDetails(error).reason });
}

/** A fresh sign-in that comes back to this page (to the start page after a form POST). */
function signInAgain(ctx: RequestContext): ErrorAction {
  const back = ctx.req.method === 'GET' ? (ctx.target?.forwardTarget ?? '/') : '/';
  return { label: 'Sign in again', href: `/.trustgate/login?rd=${encodeURIComponent(back)}` };
}

function publicMessage(error: GatewayError): string {
  return error.expose ? error.message : 'The gateway ran into a problem. Try again; if it keeps happening, give the request id below to your IT team.';
}

function safeDetails(error: GatewayError): Record<string, unknown> {
  if (!error.expose || !error.details) return {};
  const { reason, reasons } = error.details as { reason?: unknown; reasons?: unknown };
  return { ...(reason === undefined ? {} : { reason }), ...(reasons === undefined ? {} : { reasons }) };
}
