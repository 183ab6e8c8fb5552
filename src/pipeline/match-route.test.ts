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
