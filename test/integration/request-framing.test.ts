// Requests whose framing a backend could read differently from the gateway (duplicate or missing Host,
// an absolute-form target naming another host, smuggling-shaped Content-Length / Transfer-Encoding,
// oversized headers, CONNECT, non-WebSocket upgrades) get a 4xx with a request id and a reason — never
// a bare socket close — and never reach the upstream. Each case is sent as raw bytes.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { EchoResponse } from '../../src/dev/demo-app.ts';
import { sendBytes } from '../support/raw-request.ts';
import { startStack, type Stack } from '../support/start-stack.ts';

const CRLF = '\r\n';
const big = 'a'.repeat(20_000);

/** [case, request bytes for (host, target), status, reason]; each target is unique so the upstream's log can be searched. */
const CASES: [string, (host: string, target: string) => string, number, string][] = [
  ['two identical Host headers', (h, t) => `GET ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}Host: ${h}${CRLF}${CRLF}`, 400, 'duplicate-host'],
  ['two different Host headers', (h, t) => `GET ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}Host: evil.example${CRLF}${CRLF}`, 400, 'duplicate-host'],
  ['Host and HOST', (h, t) => `GET ${t} HTTP/1.1${CRLF}HOST: evil.example${CRLF}Host: ${h}${CRLF}${CRLF}`, 400, 'duplicate-host'],
  ['no Host on HTTP/1.1', (_h, t) => `GET ${t} HTTP/1.1${CRLF}${CRLF}`, 400, 'missing-host'],
  ['an empty Host', (_h, t) => `GET ${t} HTTP/1.1${CRLF}Host:${CRLF}${CRLF}`, 400, 'missing-host'],
  ['no Host on HTTP/1.0', (_h, t) => `GET ${t} HTTP/1.0${CRLF}${CRLF}`, 400, 'missing-host'],
  ['a Host with a space', (h, t) => `GET ${t} HTTP/1.1${CRLF}Host: ${h} evil${CRLF}${CRLF}`, 400, 'invalid-host'],
  ['a Host with user information', (h, t) => `GET ${t} HTTP/1.1${CRLF}Host: evil@${h}${CRLF}${CRLF}`, 400, 'invalid-host'],
  ['a Host with a path', (h, t) => `GET ${t} HTTP/1.1${CRLF}Host: ${h}/evil${CRLF}${CRLF}`, 400, 'invalid-host'],
  ['an absolute-form target naming another host', (h, t) => `GET http://other.example${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}${CRLF}`, 400, 'host-mismatch'],
  ['an absolute-form target naming another port', (h, t) => `GET http://${h.replace(/:\d+$/, ':1')}${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}${CRLF}`, 400, 'host-mismatch'],
  ['an absolute-form https target naming another host', (h, t) => `GET HTTPS://other.example${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}${CRLF}`, 400, 'host-mismatch'],
  ['an absolute-form target with user information', (h, t) => `GET http://${h}@other.example${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}${CRLF}`, 400, 'userinfo-in-target'],
  ['an oversized header', (h, t) => `GET ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}X-Big: ${big}${CRLF}${CRLF}`, 431, 'headers-too-large'],
  ['many headers over the size limit', (h, t) => `GET ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}${Array.from({ length: 800 }, (_, i) => `X-H${i}: ${'v'.repeat(20)}${CRLF}`).join('')}${CRLF}`, 431, 'headers-too-large'],
  ['an oversized request target', (h, t) => `GET ${t}?${big} HTTP/1.1${CRLF}Host: ${h}${CRLF}${CRLF}`, 431, 'headers-too-large'],
  ['two different Content-Length headers', (h, t) => `POST ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}Content-Length: 1${CRLF}Content-Length: 2${CRLF}${CRLF}ab`, 400, 'conflicting-framing'],
  ['two identical Content-Length headers', (h, t) => `POST ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}Content-Length: 1${CRLF}Content-Length: 1${CRLF}${CRLF}a`, 400, 'conflicting-framing'],
  ['a Content-Length list', (h, t) => `POST ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}Content-Length: 1, 1${CRLF}${CRLF}a`, 400, 'invalid-content-length'],
  ['a signed Content-Length', (h, t) => `POST ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}Content-Length: +1${CRLF}${CRLF}a`, 400, 'invalid-content-length'],
  ['Transfer-Encoding after Content-Length', (h, t) => `POST ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}Content-Length: 4${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}0${CRLF}${CRLF}`, 400, 'invalid-transfer-encoding'],
  ['Content-Length after Transfer-Encoding', (h, t) => `POST ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}Transfer-Encoding: chunked${CRLF}Content-Length: 4${CRLF}${CRLF}0${CRLF}${CRLF}`, 400, 'invalid-content-length'],
  ['Transfer-Encoding with Content-Length smuggling a second request', (h, t) => `POST ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}Content-Length: 40${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}0${CRLF}${CRLF}GET ${t}-smuggled HTTP/1.1${CRLF}Host: ${h}${CRLF}${CRLF}`, 400, 'invalid-transfer-encoding'],
  ['two Transfer-Encoding headers', (h, t) => `POST ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}Transfer-Encoding: chunked${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}0${CRLF}${CRLF}`, 400, 'invalid-transfer-encoding'],
  ['Transfer-Encoding: chunked, identity', (h, t) => `POST ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}Transfer-Encoding: chunked, identity${CRLF}${CRLF}0${CRLF}${CRLF}`, 400, 'invalid-transfer-encoding'],
  ['Transfer-Encoding: xchunked', (h, t) => `POST ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}Transfer-Encoding: xchunked${CRLF}${CRLF}0${CRLF}${CRLF}`, 400, 'invalid-transfer-encoding'],
  ['Transfer-Encoding: gzip, chunked', (h, t) => `POST ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}Transfer-Encoding: gzip, chunked${CRLF}${CRLF}0${CRLF}${CRLF}`, 400, 'invalid-transfer-encoding'],
  ['Transfer-Encoding on HTTP/1.0', (h, t) => `POST ${t} HTTP/1.0${CRLF}Host: ${h}${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}0${CRLF}${CRLF}`, 400, 'invalid-transfer-encoding'],
  ['a space before the colon of Transfer-Encoding', (h, t) => `POST ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}Transfer-Encoding : chunked${CRLF}${CRLF}0${CRLF}${CRLF}`, 400, 'invalid-header'],
  ['an obsolete line folding', (h, t) => `GET ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}X-A: b${CRLF} c${CRLF}${CRLF}`, 400, 'invalid-header'],
  ['a NUL in a header value', (h, t) => `GET ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}X-A: b\0c${CRLF}${CRLF}`, 400, 'invalid-header'],
  ['bare LF line endings', (h, t) => `GET ${t} HTTP/1.1\nHost: ${h}\n\n`, 400, 'invalid-http-version'],
  ['an invalid method', (h, t) => `G@T ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}${CRLF}`, 400, 'invalid-method'],
  ['HTTP/2.0 in a text request line', (h, t) => `GET ${t} HTTP/2.0${CRLF}Host: ${h}${CRLF}${CRLF}`, 505, 'unsupported-http-version'],
  ['CONNECT', (h) => `CONNECT ${h} HTTP/1.1${CRLF}Host: ${h}${CRLF}${CRLF}`, 405, 'connect-not-supported'],
  ['an h2c upgrade', (h, t) => `GET ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}Connection: Upgrade, HTTP2-Settings${CRLF}Upgrade: h2c${CRLF}HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA${CRLF}${CRLF}`, 400, 'unsupported-upgrade'],
  ['a WebSocket upgrade with two Host headers', (h, t) => `GET ${t} HTTP/1.1${CRLF}Host: ${h}${CRLF}Host: evil.example${CRLF}Connection: Upgrade${CRLF}Upgrade: websocket${CRLF}Sec-WebSocket-Version: 13${CRLF}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==${CRLF}${CRLF}`, 400, 'duplicate-host'],
];

describe('request framing', () => {
  let stack: Stack;
  let host: string;

  beforeAll(async () => {
    stack = await startStack({ route: { public: ['/public', '/echo'] } });
    host = `127.0.0.1:${stack.port}`;
  });
  afterAll(() => stack.close());

  test('a well-formed raw request reaches the upstream (the control for the table below)', async () => {
    const answer = await sendBytes(stack.url, `GET /echo/framing-control HTTP/1.1${CRLF}Host: ${host}${CRLF}Connection: close${CRLF}${CRLF}`);
    expect(answer.status).toBe(200);
    expect(stack.upstream.received()).toContain('GET /echo/framing-control');
  });

  test('an absolute-form target whose authority equals Host is served in origin-form', async () => {
    const answer = await sendBytes(stack.url, `GET http://${host}/echo/framing-absolute?q=1 HTTP/1.1${CRLF}Host: ${host.toUpperCase()}${CRLF}Connection: close${CRLF}${CRLF}`);
    expect(answer.status, answer.text.slice(0, 300)).toBe(200);
    expect((JSON.parse(answer.body) as EchoResponse).url).toBe('/echo/framing-absolute?q=1');
  });

  test.each(CASES.map(([name, bytes, status, reason], i) => ({ name, bytes, status, reason, i })))(
    '$name → $status $reason, with a request id, never reaching the upstream',
    async ({ bytes, status, reason, i }) => {
      const target = `/echo/framing-case-${i}`;
      const answer = await sendBytes(stack.url, bytes(host, target));
      expect(answer.closedByServer).toBe(true);
      expect(answer.status, answer.text.slice(0, 300)).toBe(status);
      const requestId = answer.headers['x-request-id'] ?? '';
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(answer.headers.connection?.toLowerCase()).toBe('close');
      // The body names the request id and the reason, as JSON or on the error page.
      expect(answer.body).toContain(requestId);
      if (answer.headers['content-type']?.startsWith('application/json')) expect(JSON.parse(answer.body)).toMatchObject({ reason, requestId });
      else expect(answer.body).toContain(reason);
      // Nothing of the request, nor anything smuggled inside it, got through.
      expect(stack.upstream.received().filter((line) => line.includes('/echo/framing-case-'))).toEqual([]);
    },
  );
});
