// Unit tests for host matching of admin.host (exact with a port, any port without one, never a look-alike)
// and for which internal handlers count as the console.
import { describe, expect, test } from 'vitest';
import { isAdminHandler, isAdminHost } from './admin-host.ts';

describe('isAdminHost', () => {
  test.each([
    ['admin.localhost:8080', 'admin.localhost:8080', true],
    ['admin.localhost:8080', 'ADMIN.localhost:8080', true],
    ['admin.localhost:8080', 'admin.localhost:8081', false],
    ['admin.localhost:8080', 'admin.localhost', false],
    ['admin.example.com', 'admin.example.com', true],
    ['admin.example.com', 'admin.example.com:8443', true],
    ['admin.example.com', 'admin.example.com.', false],
    ['admin.example.com', 'admin.example.com.:443', false],
    ['admin.example.com', 'xadmin.example.com', false],
    ['admin.example.com', 'admin.example.com.evil.test', false],
    ['admin.example.com', 'admin.example.com:x@evil.test', false],
    ['admin.example.com', '', false],
  ])('admin.host %s, Host %j → %s', (adminHost, host, expected) => {
    expect(isAdminHost(adminHost, host)).toBe(expected);
  });

  test('no admin.host: no host is the admin host', () => {
    expect(isAdminHost(undefined, 'admin.localhost')).toBe(false);
  });
});

describe('isAdminHandler', () => {
  test.each([
    ['admin', true],
    ['admin/grants', true],
    ['admin/grants/revoke', true],
    ['admin/sessions/revoke', true],
    ['ADMIN/routes/edit', true],
    ['login', false],
    ['break-glass', false],
    ['healthz', false],
  ])('%s → %s', (name, expected) => {
    expect(isAdminHandler(name)).toBe(expected);
  });
});
