// Checks that need more than one field at a time (run after the schema passed): unique route names,
// unambiguous matches, an allow rule on every route, valid proxy ranges, safe issuer and listeners.
import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import type { ConfigProblem } from './config-problem.ts';
import type { GatewayConfig } from './schema.ts';
import { isLoopbackHost } from './loopback.ts';
import { compileSanPattern } from './compile-san-pattern.ts';
import { isUnderPrefix } from './is-under-prefix.ts';

export function crossCheckConfig(config: GatewayConfig): ConfigProblem[] {
  return [
    ...checkRoutes(config),
    ...checkAdminHost(config),
    ...checkDeviceRules(config),
    ...checkAddressList(config.trustedProxies, 'trustedProxies'),
    ...checkAddressList(config.metrics.allowFrom, 'metrics.allowFrom'),
    ...checkListeners(config),
    ...checkIssuer(config),
    ...checkDeviceIdentity(config),
  ];
}

function checkDeviceRules(config: GatewayConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  config.routes.forEach((route, i) => {
    const rule = route.device;
    if (!rule) return;
    if (!config.fleet) problems.push({ path: `routes[${i}].device`, message: 'device rules need the fleet section (url, apiToken)' });
    if (rule.mode === 'warn' && !rule.warnUntil) problems.push({ path: `routes[${i}].device.warnUntil`, message: 'mode "warn" needs a deadline (ISO date-time)' });
    if (rule.mode !== 'warn' && rule.warnUntil) problems.push({ path: `routes[${i}].device.warnUntil`, message: 'only used with mode "warn"' });
    if (rule.identifyBy === 'certificate' && !config.deviceIdentity.methods.some((m) => m !== 'email')) {
      problems.push({ path: `routes[${i}].device.identifyBy`, message: '"certificate" needs deviceIdentity.methods to include certificate or header' });
    }
  });
  config.routes.forEach((route, i) => {
    const glass = route.breakGlass;
    if (!glass) return;
    glass.durations.forEach((d, j) => {
      if (d > glass.maxDuration) problems.push({ path: `routes[${i}].breakGlass.durations[${j}]`, message: 'longer than maxDuration' });
    });
  });
  config.routes.forEach((route, i) => {
    const trust = route.minTrustScore;
    if (!trust) return;
    if (!config.trust) problems.push({ path: `routes[${i}].minTrustScore`, message: 'a trust score needs the trust section (results source)' });
    if (trust.mode === 'warn' && !trust.warnUntil) problems.push({ path: `routes[${i}].minTrustScore.warnUntil`, message: 'mode "warn" needs a deadline (ISO date-time)' });
    if (config.trust?.subject === 'host' && !route.device) {
      problems.push({ path: `routes[${i}].device`, message: 'trust.subject "host" scores the identified device: add a device block (even an empty one: device: {})' });
    }
  });
  return problems;
}

function checkDeviceIdentity(config: GatewayConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  try {
    compileSanPattern(config.deviceIdentity.sanPattern);
  } catch (error) {
    problems.push({ path: 'deviceIdentity.sanPattern', message: (error as Error).message });
  }
  const file = config.deviceIdentity.certificateCaFile;
  if (file !== undefined && !readable(file)) problems.push({ path: 'deviceIdentity.certificateCaFile', message: `cannot read ${file}` });
  return problems;
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function checkRoutes(config: GatewayConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const names = new Set<string>();
  const matches = new Set<string>();
  config.routes.forEach((route, i) => {
    const at = `routes[${i}]`;
    if (names.has(route.name)) problems.push({ path: `${at}.name`, message: `duplicate route name "${route.name}"` });
    names.add(route.name);
    const match = `${route.host}${route.pathPrefix.replace(/\/+$/, '')}`;
    if (matches.has(match)) problems.push({ path: `${at}.pathPrefix`, message: `another route already matches ${route.host}${route.pathPrefix}` });
    matches.add(match);
    const hasRule = route.allowedGroups.length + route.allowedEmailDomains.length + route.allowedEmails.length > 0;
    if (!hasRule && !route.allowAnyAuthenticatedUser) {
      problems.push({
        path: at,
        message: 'no allow rule: set allowedGroups, allowedEmailDomains or allowedEmails (or allowAnyAuthenticatedUser: true)',
      });
    }
    route.public.forEach((publicPath, j) => {
      if (!isUnderPrefix(publicPath, route.pathPrefix)) {
        problems.push({ path: `${at}.public[${j}]`, message: `must be under the route's pathPrefix ${route.pathPrefix}` });
      }
    });
  });
  return problems;
}

/**
 * The admin host serves nothing but the console, so no route may live there. Ports do not separate
 * cookies (RFC 6265 §8.5), so a route on the same name at another port would share the console's cookies.
 */
function checkAdminHost(config: GatewayConfig): ConfigProblem[] {
  const adminHost = config.admin.host;
  if (adminHost === undefined) return [];
  const bare = (host: string): string => host.replace(/:\d+$/, '');
  return config.routes.flatMap((route, i) =>
    bare(route.host) === bare(adminHost)
      ? [{ path: `routes[${i}].host`, message: `${route.host} is the admin host (admin.host ${adminHost}), which serves only the admin console; give the route another host` }]
      : [],
  );
}

function checkAddressList(entries: readonly string[], at: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  entries.forEach((entry, i) => {
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const max = family === 6 ? 128 : 32;
    const badBits = bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max);
    if (family === 0 || badBits || extra !== undefined) {
      problems.push({ path: `${at}[${i}]`, message: `"${entry}" is not an IP address or CIDR range` });
    }
  });
  return problems;
}

function checkListeners(config: GatewayConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  config.listeners.forEach((listener, i) => {
    for (const key of ['certFile', 'keyFile', 'clientCaFile'] as const) {
      const file = listener.tls?.[key];
      if (file !== undefined && !readable(file)) problems.push({ path: `listeners[${i}].tls.${key}`, message: `cannot read ${file}` });
    }
    if (listener.tls?.requestClientCert && !listener.tls.clientCaFile) {
      problems.push({ path: `listeners[${i}].tls.clientCaFile`, message: 'requestClientCert needs the device CA (clientCaFile)' });
    }
  });
  return problems;
}

function checkIssuer(config: GatewayConfig): ConfigProblem[] {
  const issuer = new URL(config.oidc.issuer);
  if (issuer.protocol === 'https:' || isLoopbackHost(issuer.hostname) || config.oidc.allowInsecureIssuer) return [];
  return [{ path: 'oidc.issuer', message: 'plain-http issuer outside loopback; use https (or allowInsecureIssuer for development)' }];
}
