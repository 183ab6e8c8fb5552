// Pins the demo app's echo contract (JSON and WebSocket) that the gateway's integration tests assert on.

import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startDemoApp } from './demo-app.ts';
import type { DemoApp, EchoResponse } from './demo-app.ts';

let app: DemoApp;

beforeAll(async () => {
  app = await startDemoApp({});
});

afterAll(async () => {
  await app?.close();
});

describe('demo app', () => {
  test('JSON echo returns method, raw url, headers and body as received', async () => {
    const res = await fetch(`${app.url}/echo/a%2Fb?x=1&x=2`, {
      method: 'POST',
      headers: { 'x-trustgate-user': 'alice', 'x-custom': 'v1', 'content-type': 'text/plain' },
      body: 'hello body',
    });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as EchoResponse;
    expect(echo.method).toBe('POST');
    expect(echo.url).toBe('/echo/a%2Fb?x=1&x=2');
    expect(echo.headers['x-trustgate-user']).toBe('alice');
    expect(echo.headers['x-custom']).toBe('v1');
    expect(echo.body).toBe('hello body');
    expect(echo.rawHeaders).toContain('x-custom');
  });

  test('Accept: application/json on any path echoes JSON', async () => {
    const res = await fetch(`${app.url}/anything`, { headers: { accept: 'application/json' } });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await res.json()) as EchoResponse).url).toBe('/anything');
  });

  test('HTML page shows the signed-in user and escapes headers', async () => {
    const res = await fetch(`${app.url}/dashboard`, {
      headers: {
        accept: 'text/html',
        'x-trustgate-user': 'alice',
        'x-trustgate-email': 'alice@example.com',
        'x-trustgate-groups': 'engineering,trustgate-admins',
        'x-evil': '<script>alert(1)</script>',
      },
    });
    const html = await res.text();
    expect(html).toContain('Trustgate demo app');
    expect(html).toContain('Signed in as <strong>alice</strong> (alice@example.com)');
    expect(html).toContain('engineering,trustgate-admins');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert(1)');
  });

  test('special paths: /public, /status/NNN, /slow', async () => {
    expect(await (await fetch(`${app.url}/public/logo.svg`)).text()).toBe('public');
    expect((await fetch(`${app.url}/status/418`)).status).toBe(418);
    // A long wait is still unanswered when the client gives up; no wait answers at once with the echo.
    const pending = fetch(`${app.url}/slow?ms=60000`, { signal: AbortSignal.timeout(100) });
    await expect(pending).rejects.toMatchObject({ name: 'TimeoutError' });
    const slow = await fetch(`${app.url}/slow?ms=0`, { headers: { accept: 'application/json' } });
    expect(slow.status).toBe(200);
    expect(((await slow.json()) as EchoResponse).url).toBe('/slow?ms=0');
  });

  test('WebSocket says hello with the upgrade headers, then echoes', async () => {
    const ws = new WebSocket(`${app.url.replace('http', 'ws')}/ws?room=1`, { headers: { 'x-trustgate-user': 'bob' } });
    const messages: string[] = [];
    const received = new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        messages.push((Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8'));
        if (messages.length === 1) ws.send('ping');
        if (messages.length === 2) resolve();
      });
      ws.on('error', reject);
    });
    await received;
    const hello = JSON.parse(messages[0] as string) as { type: string; url: string; headers: Record<string, string> };
    expect(hello.type).toBe('hello');
    expect(hello.url).toBe('/ws?room=1');
    expect(hello.headers['x-trustgate-user']).toBe('bob');
    expect(messages[1]).toBe('echo:ping');
    ws.close();
  });

  test('close() ends promptly with a WebSocket still open', async () => {
    const other = await startDemoApp({});
    const ws = new WebSocket(`${other.url.replace('http', 'ws')}/ws`);
    await new Promise<void>((resolve) => ws.once('message', () => resolve()));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    // close() does not wait for the client to hang up: it resolves (a hang fails on the test timeout)
    // and the open WebSocket is ended by the server.
    await other.close();
    expect(typeof (await closed)).toBe('number');
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });
});
