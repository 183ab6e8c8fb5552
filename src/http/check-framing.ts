// Refuses requests whose framing a backend or a proxy behind the gateway could read differently:
// no or several Host headers, a Host that is not a host, an absolute-form target naming another
// authority than Host, transfer codings other than plain chunked, and upgrades to anything but
// WebSocket (an h2c upgrade would tunnel HTTP/2 past every path rule). What Node's parser refuses
// itself (conflicting Content-Length, Transfer-Encoding with Content-Length, oversized headers…)
// is answered in answer-client-error.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError, type ErrorCode } from '../errors.ts';

// RFC 3986 reg-name as hosts are really named (letters, digits, ".", "-", "_") or an IP literal; a port.
const HOST = /^(?:[a-z0-9._-]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/i;
const ABSOLUTE_FORM = /^https?:\/\//i;

/**
 * Checks the request's framing and returns its target in origin-form (an absolute-form target whose
 * authority equals Host loses its scheme and authority, RFC 9112 §3.2.2). A refused request's
 * connection is closed afterwards: what follows it on the socket cannot be trusted either.
 */
export function checkFraming(req: IncomingMessage, res: ServerResponse | undefined, kind: 'request' | 'upgrade' = 'request'): string {
  const problem = framingProblem(req, kind);
  if (problem) {
    res?.setHeader('connection', 'close');
    throw new GatewayError(problem.code ?? 'TG_ERR_BAD_REQUEST', problem.message, { status: problem.status, details: { reason: problem.reason } });
  }
  return originForm(req);
}

interface Problem {
  reason: string;
  message: string;
  status?: number;
  /** Problems with the request target itself are bad paths, as normalize-path.ts reports them. */
  code?: Extract<ErrorCode, 'TG_ERR_BAD_PATH'>;
}

function framingProblem(req: IncomingMessage, kind: 'request' | 'upgrade'): Problem | undefined {
  if (req.httpVersionMajor !== 1) return { reason: 'unsupported-http-version', message: 'Only HTTP/1.0 and HTTP/1.1 are spoken here.', status: 505 };
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]?.length === 4 && req.rawHeaders[i]?.toLowerCase() === 'host') hosts++;
  if (hosts > 1) return { reason: 'duplicate-host', message: 'The request has more than one Host header.' };
  const host = req.headers.host ?? '';
  if (host === '') return { reason: 'missing-host', message: 'The request has no Host header.' };
  if (!HOST.test(host)) return { reason: 'invalid-host', message: 'The Host header is not a host name.' };
  const transferEncoding = req.headers['transfer-encoding'];
  if (transferEncoding !== undefined) {
    if (req.headers['content-length'] !== undefined) return { reason: 'conflicting-framing', message: 'The request has both Transfer-Encoding and Content-Length.' };
    if (req.httpVersionMinor === 0) return { reason: 'invalid-transfer-encoding', message: 'HTTP/1.0 requests cannot use Transfer-Encoding.' };
    if (transferEncoding.trim().toLowerCase() !== 'chunked') return { reason: 'invalid-transfer-encoding', message: 'Only "Transfer-Encoding: chunked" is accepted.' };
  }
  const target = req.url ?? '';
  if (ABSOLUTE_FORM.test(target)) {
    const authority = absoluteAuthority(target);
    if (authority.includes('@')) return { reason: 'userinfo-in-target', message: 'The request target carries user information.', code: 'TG_ERR_BAD_PATH' };
    if (authority.toLowerCase() !== host.toLowerCase()) return { reason: 'host-mismatch', message: 'The request target names another host than the Host header.', code: 'TG_ERR_BAD_PATH' };
  }
  if (kind === 'upgrade' && (req.headers.upgrade ?? '').trim().toLowerCase() !== 'websocket') {
    return { reason: 'unsupported-upgrade', message: 'Only WebSocket upgrades are accepted.' };
  }
  return undefined;
}

/** The authority of an absolute-form target: after "scheme://", up to the path, query or end. */
function absoluteAuthority(target: string): string {
  const start = target.indexOf('//') + 2;
  const end = target.slice(start).search(/[/?#]/);
  return end === -1 ? target.slice(start) : target.slice(start, start + end);
}

function originForm(req: IncomingMessage): string {
  const target = req.url ?? '';
  if (!ABSOLUTE_FORM.test(target)) return target;
  const rest = target.slice(target.indexOf('//') + 2 + absoluteAuthority(target).length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}
