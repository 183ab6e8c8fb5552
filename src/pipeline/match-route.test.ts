// Unit tests of the route table's choice (paths as normalizeTarget leaves them, decoded once): the exact
// match, unless another common backend reading of the path (any letter case, no format suffix, decoded
// twice) picks another route or public-ness.
import { describe, expect, test } from 'vitest';
import { routeConfigs as routes } from '../../test/support/route-configs.ts';
import { createRouteTable } from './match-route.ts';

describe('RouteTable.choose', () => {
  const table = createRouteTable(
    routes([
      { name: 'site', public: ['/'] },
      { name: 'admin', pathPrefix: '/admin' },
      { name: 'app', pathPrefix: '/app', public: ['/app/public'] },
      { name: 'v1', pathPrefix: '/v1.0' },
    ]),
  );

  test.each([
    ['/admin/x', 'admin', false],
    ['/app/public/x', 'app', true],
    ['/app/x', 'app', false],
    ['/about', 'site', true],
    ['/v1.0', 'v1', false],
    ['/v1.0/x.json', 'v1', false],
    ['/admin/%2561', 'admin', false],
  ])('%s is %s (public: %s)', (path, name, publicPath) => {
    const choice = table.choose('app.example', path);
    expect(choice).toMatchObject({ kind: 'route', route: { name }, publicPath });
  });

  test.each([
    ['/ADMIN', 'letter case'],
    ['/admın', 'letter case'],
    ['/app/PUBLIC', 'letter case'],
    ['/admin.json', 'format suffix'],
    ['/admin.json/', 'format suffix'],
    ['/app/public.html', 'format suffix'],
    ['/%61dmin', 'second time'],
    ['/app/%70ublic', 'second time'],
    ['/x/%2e%2e/admin', 'second time'],
    ['/%61dmin%3bx', 'second time'],
  ])('%s is ambiguous (%s)', (path, why) => {
    const choice = table.choose('app.example', path);
    expect(choice.kind).toBe('ambiguous');
    if (choice.kind === 'ambiguous') expect(choice.reason).toContain(why);
  });

  test('an unknown host has no route; a host whose case differs is the same host', () => {
    expect(table.choose('other.example', '/admin')).toEqual({ kind: 'none' });
    expect(table.choose('APP.example', '/admin')).toMatchObject({ kind: 'route', route: { name: 'admin' } });
  });
});

describe('RouteTable.match and servesHost', () => {
  const table = createRouteTable(
    routes([
      { name: 'root', host: 'app.example' },
      { name: 'app', host: 'app.example', pathPrefix: '/app' },
      { name: 'app-api', host: 'app.example', pathPrefix: '/app/api' },
      { name: 'ported', host: 'ported.example:8443' },
    ]),
  );

  test.each([
    ['app.example', '/app', 'app'],
    ['app.example', '/app/', 'app'],
    ['app.example', '/app/x', 'app'],
    ['app.example', '/apple', 'root'],
    ['app.example', '/app/api', 'app-api'],
    ['app.example', '/app/api/v1', 'app-api'],
    ['app.example', '/app/apix', 'app'],
    ['app.example:8080', '/app/x', 'app'],
    ['APP.EXAMPLE', '/app/x', 'app'],
    ['ported.example:8443', '/x', 'ported'],
  ])('%s%s → %s (longest prefix, on a segment boundary)', (host, path, name) => {
    const choice = table.choose(host, path);
    expect(choice.kind === 'route' ? choice.route.name : choice.kind).toBe(name);
  });

  test.each([
    ['ported.example', '/x'],
    ['ported.example:443', '/x'],
    ['other.example', '/'],
    ['app.example.evil', '/'],
  ])('%s%s has no route (a route naming a port matches only that port)', (host, path) => {
    expect(table.choose(host, path)).toEqual({ kind: 'none' });
  });

  test('servesHost says which hosts are ours', () => {
    expect(['app.example', 'app.example:1', 'App.Example', 'ported.example:8443'].map((h) => table.servesHost(h))).toEqual([true, true, true, true]);
    expect(['ported.example', 'evil.example', 'example', ''].map((h) => table.servesHost(h))).toEqual([false, false, false, false]);
  });

  test('isPublicPath uses segment boundaries too', () => {
    const [route] = routes([{ name: 'p', public: ['/public'] }]);
    if (!route) throw new Error('one route');
    expect(['/public', '/public/', '/public/x', '/publicity', '/x/public'].map((p) => table.isPublicPath(route, p))).toEqual([true, true, true, false, false]);
  });
});
