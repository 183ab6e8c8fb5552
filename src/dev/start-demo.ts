// The embedded demo behind a bare `npm start`: a development IdP, the Fleet simulator, the demo app and
// the gateway, all on loopback, wired from the ordinary config file config/trustgate.yaml (the IdP and
// the demo app listen where that file's issuer and upstream point), plus the osquery results writer
// that feeds the trust score's result log.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { parseDocument } from 'yaml';
import { loadConfigFile } from '../config/load-config.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { createGateway } from '../gateway.ts';
import { CALLBACK_PATH } from '../pipeline/identify-user/login-flow.ts';
import { DEMO_USERS, startDevIdp } from './dev-idp.ts';
import { startDemoApp } from './demo-app.ts';
import { loadSimulatorData } from './fleet-simulator-data.ts';
import { startFleetSimulator } from './fleet-simulator.ts';
import { loadResultsData } from './osquery-results-data.ts';
import { startOsqueryResultsWriter, type ResultsWriter } from './osquery-results-writer.ts';

const SIMULATOR_DATA = fileURLToPath(new URL('../../config/fleet-simulator.yaml', import.meta.url));
const RESULTS_DATA = fileURLToPath(new URL('../../config/demo-osquery-results.yaml', import.meta.url));
/** How often the simulated hosts' osquery results are appended to the result log. */
const RESULTS_INTERVAL_MS = 60_000;

export interface Demo {
  gatewayUrl: string;
  /** The admin console's own host (admin.host), e.g. http://admin.localhost:8080. */
  adminUrl: string;
  fleetUrl: string;
  close(): Promise<void>;
}

export interface DemoOptions {
  quiet?: boolean;
  /** Listen on free ports instead of the config's (tests run the demo beside a developer's). */
  ephemeralPorts?: boolean;
}

export async function startDemo(configFile: string, options: DemoOptions = {}): Promise<Demo> {
  const fileConfig = await loadConfigFile(configFile);
  const route = fileConfig.routes[0];
  if (!route || !fileConfig.listeners[0]) throw new Error('the demo config needs a route and a listener');
  const portOf = (url: string): number => (options.ephemeralPorts ? 0 : Number(new URL(url).port));

  const idp = await startDevIdp({ host: new URL(fileConfig.oidc.issuer).hostname, port: portOf(fileConfig.oidc.issuer) });
  const app = await startDemoApp({ host: new URL(route.upstream).hostname, port: portOf(route.upstream) });
  if (!fileConfig.fleet) throw new Error('the demo config needs a fleet section pointing at the simulator');
  const fleet = await startFleetSimulator({
    host: new URL(fileConfig.fleet.url).hostname,
    port: portOf(fileConfig.fleet.url),
    data: await loadSimulatorData(SIMULATOR_DATA),
    apiToken: fileConfig.fleet.apiToken,
  });
  // The result log the trust score reads: where the config says (relative to the working directory),
  // or a temp dir when running beside a developer's demo.
  const source = fileConfig.trust?.source;
  const resultsDir = source?.kind === 'result-log' && options.ephemeralPorts ? await mkdtemp(path.join(tmpdir(), 'trustgate-demo-')) : undefined;
  const resultsFile = source?.kind === 'result-log' ? (resultsDir ? path.join(resultsDir, 'osquery_result.log') : path.resolve(source.file)) : undefined;
  const results: ResultsWriter | undefined = resultsFile
    ? await startOsqueryResultsWriter({ file: resultsFile, hosts: await loadResultsData(RESULTS_DATA), intervalMs: RESULTS_INTERVAL_MS })
    : undefined;
  // The gateway runs from a copy the admin console may edit, so demo edits never touch the repository's file.
  const configDir = options.ephemeralPorts ? await mkdtemp(path.join(tmpdir(), 'trustgate-demo-config-')) : path.resolve('var');
  // With free ports the admin host names no port (admin.localhost then matches whichever port was bound).
  const adminHost = fileConfig.admin.host && options.ephemeralPorts ? fileConfig.admin.host.replace(/:\d+$/, '') : fileConfig.admin.host;
  const editable = await writeEditableCopy(configFile, configDir, options.ephemeralPorts ? { issuer: idp.issuer, upstream: app.url, fleetUrl: fleet.url, resultsFile, adminHost } : undefined);
  const patched: GatewayConfig = options.ephemeralPorts
    ? {
        ...fileConfig,
        listeners: fileConfig.listeners.map((l) => ({ ...l, port: 0 })),
        oidc: { ...fileConfig.oidc, issuer: idp.issuer },
        routes: fileConfig.routes.map((r) => ({ ...r, upstream: app.url })),
        fleet: { ...fileConfig.fleet, url: fleet.url },
        ...(fileConfig.trust && resultsFile ? { trust: { ...fileConfig.trust, source: { kind: 'result-log' as const, file: resultsFile } } } : {}),
        breakGlass: demoBreakGlass(configDir),
        session: { ...fileConfig.session, revocation: demoRevocation(configDir) },
        admin: { ...fileConfig.admin, host: adminHost },
      }
    : fileConfig;
  // The copy says the same as the patched config (the loader turns one into the other); reading it back proves it.
  const config = await loadConfigFile(editable);
  if (JSON.stringify(config) !== JSON.stringify(patched)) throw new Error(`${editable} does not match the demo config`);
  const log = pino({ level: options.quiet ? 'silent' : config.logging.level });
  const gateway = createGateway(config, { log, configFile: editable });
  const [bound] = await gateway.listen();
  const gatewayUrl = `http://${route.host}:${bound?.port}`;
  const adminUrl = adminHost === undefined ? '' : /:\d+$/.test(adminHost) ? `http://${adminHost}` : `http://${adminHost}:${bound?.port}`;
  // The admin host signs in on its own: its callback and signed-out page are registered too.
  const origins = adminUrl ? [gatewayUrl, adminUrl] : [gatewayUrl];
  idp.registerClient({
    clientId: config.oidc.clientId,
    clientSecret: config.oidc.clientSecret,
    redirectUris: origins.map((origin) => `${origin}${CALLBACK_PATH}`),
    postLogoutRedirectUris: origins.map((origin) => `${origin}/.trustgate/signed-out`),
    backchannelLogoutUri: `${gatewayUrl}/.trustgate/backchannel-logout`,
    tokenEndpointAuthMethod: 'client_secret_basic',
  });
  if (!options.quiet) printWelcome({ gatewayUrl, adminUrl, issuer: idp.issuer, fleetUrl: fleet.url, appUrl: app.url, resultsFile, editable });

  return {
    gatewayUrl,
    adminUrl,
    fleetUrl: fleet.url,
    async close() {
      await gateway.close();
      await Promise.all([idp.close(), app.close(), fleet.close(), results?.close()]);
      if (resultsDir) await rm(resultsDir, { recursive: true, force: true });
      if (options.ephemeralPorts) await rm(configDir, { recursive: true, force: true });
    },
  };
}

/**
 * Writes the config the demo gateway runs from into `dir`: a plain copy, or with free ports the addresses
 * of the servers just started patched in (yaml's Document API keeps comments and ${ENV} placeholders).
 */
function demoRevocation(dir: string): GatewayConfig['session']['revocation'] {
  return { kind: 'file', path: path.join(dir, 'session-revocations.jsonl') };
}

function demoBreakGlass(dir: string): GatewayConfig['breakGlass'] {
  return {
    store: { kind: 'file', file: path.join(dir, 'break-glass-grants.jsonl') },
    audit: { file: path.join(dir, 'break-glass-audit.jsonl'), spoolDir: path.join(dir, 'audit-spool') },
  };
}

interface DemoPatch {
  issuer: string;
  upstream: string;
  fleetUrl: string;
  resultsFile: string | undefined;
  adminHost: string | undefined;
}

async function writeEditableCopy(configFile: string, dir: string, patch: DemoPatch | undefined): Promise<string> {
  const text = await readFile(configFile, 'utf8');
  const doc = parseDocument(text);
  if (patch) {
    const count = (key: string): number => ((doc.toJS() as Record<string, unknown[] | undefined>)[key] ?? []).length;
    for (let i = 0; i < count('listeners'); i++) doc.setIn(['listeners', i, 'port'], 0);
    for (let i = 0; i < count('routes'); i++) doc.setIn(['routes', i, 'upstream'], patch.upstream);
    doc.setIn(['oidc', 'issuer'], patch.issuer);
    doc.setIn(['fleet', 'url'], patch.fleetUrl);
    if (patch.resultsFile) doc.setIn(['trust', 'source', 'file'], patch.resultsFile);
    if (patch.adminHost) doc.setIn(['admin', 'host'], patch.adminHost);
    // Grants and audit of a throwaway demo stay in its temp dir (earlier runs must not count against bob's daily limit).
    doc.setIn(['breakGlass'], doc.createNode(demoBreakGlass(dir)));
    doc.setIn(['session', 'revocation'], doc.createNode(demoRevocation(dir)));
  }
  await mkdir(dir, { recursive: true });
  const target = path.join(dir, path.basename(configFile));
  await writeFile(target, patch ? doc.toString({ flowCollectionPadding: false, lineWidth: 0 }) : text);
  return target;
}

interface Welcome {
  gatewayUrl: string;
  adminUrl: string;
  issuer: string;
  fleetUrl: string;
  appUrl: string;
  resultsFile: string | undefined;
  editable: string;
}

function printWelcome({ gatewayUrl, adminUrl, issuer, fleetUrl, appUrl, resultsFile, editable }: Welcome): void {
  const users = DEMO_USERS.map((u) => `    ${u.email.padEnd(26)} ${u.groups.join(', ').padEnd(28)} ${u.description ?? ''}`).join('\n');
  console.log(`
  Trustgate demo is running.

    Open  ${gatewayUrl}/   and sign in as one of the demo users:
${users}

    Development IdP   ${issuer}
    Fleet simulator   ${fleetUrl}/_sim/   (control page: bob fails "Disk encryption enabled";
                      press "Mark fixed" there, as if he turned FileVault on, then "check again")
    Demo app          ${appUrl}   (what the gateway protects)
${resultsFile ? `    osquery results   ${resultsFile}
                      (${gatewayUrl}/reports/ needs a trust score of 70: alice's MacBook
                      scores 100, carol's laptop 60 and is turned away there)
` : ''}
    Admin console     ${adminUrl ? `${adminUrl}/   (its own host; sign in as alice: routes, history, decisions)` : 'disabled (set admin.host)'}
                      Edits go to ${path.relative(process.cwd(), editable) || editable}, a fresh copy of the
                      repository's config made at every start; the repository's file never changes.

  Press Ctrl+C to stop.
`);
}
