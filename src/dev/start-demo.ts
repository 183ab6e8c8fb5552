// The embedded demo behind a bare `npm start`: a development IdP, the Fleet simulator, the demo app and
// the gateway, all on loopback, wired from the ordinary config file config/trustgate.yaml (the IdP and
// the demo app listen where that file's issuer and upstream point), plus the osquery results writer
// that feeds the trust score's result log.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
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
  const config: GatewayConfig = options.ephemeralPorts
    ? {
        ...fileConfig,
        listeners: fileConfig.listeners.map((l) => ({ ...l, port: 0 })),
        oidc: { ...fileConfig.oidc, issuer: idp.issuer },
        routes: fileConfig.routes.map((r) => ({ ...r, upstream: app.url })),
        fleet: { ...fileConfig.fleet, url: fleet.url },
        ...(fileConfig.trust && resultsFile ? { trust: { ...fileConfig.trust, source: { kind: 'result-log' as const, file: resultsFile } } } : {}),
      }
    : fileConfig;
  const log = pino({ level: options.quiet ? 'silent' : config.logging.level });
  const gateway = createGateway(config, { log });
  const [bound] = await gateway.listen();
  const gatewayUrl = `http://${route.host}:${bound?.port}`;
  idp.registerClient({
    clientId: config.oidc.clientId,
    clientSecret: config.oidc.clientSecret,
    redirectUris: [`${gatewayUrl}${CALLBACK_PATH}`],
    postLogoutRedirectUris: [`${gatewayUrl}/.trustgate/signed-out`],
    tokenEndpointAuthMethod: 'client_secret_basic',
  });
  if (!options.quiet) printWelcome(gatewayUrl, idp.issuer, fleet.url, app.url, resultsFile);

  return {
    gatewayUrl,
    fleetUrl: fleet.url,
    async close() {
      await gateway.close();
      await Promise.all([idp.close(), app.close(), fleet.close(), results?.close()]);
      if (resultsDir) await rm(resultsDir, { recursive: true, force: true });
    },
  };
}

function printWelcome(gatewayUrl: string, issuer: string, fleetUrl: string, appUrl: string, resultsFile: string | undefined): void {
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
  Press Ctrl+C to stop.
`);
}
