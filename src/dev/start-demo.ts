// The embedded demo behind a bare `npm start`: a development IdP, the Fleet simulator, the demo app and
// the gateway, all on loopback, wired from the ordinary config file config/trustgate.yaml (the IdP and
// the demo app listen where that file's issuer and upstream point).
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

const SIMULATOR_DATA = fileURLToPath(new URL('../../config/fleet-simulator.yaml', import.meta.url));

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
  const config: GatewayConfig = options.ephemeralPorts
    ? {
        ...fileConfig,
        listeners: fileConfig.listeners.map((l) => ({ ...l, port: 0 })),
        oidc: { ...fileConfig.oidc, issuer: idp.issuer },
        routes: fileConfig.routes.map((r) => ({ ...r, upstream: app.url })),
        fleet: { ...fileConfig.fleet, url: fleet.url },
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
  if (!options.quiet) printWelcome(gatewayUrl, idp.issuer, fleet.url, app.url);

  return {
    gatewayUrl,
    fleetUrl: fleet.url,
    async close() {
      await gateway.close();
      await Promise.all([idp.close(), app.close(), fleet.close()]);
    },
  };
}

function printWelcome(gatewayUrl: string, issuer: string, fleetUrl: string, appUrl: string): void {
  const users = DEMO_USERS.map((u) => `    ${u.email.padEnd(26)} ${u.groups.join(', ').padEnd(28)} ${u.description ?? ''}`).join('\n');
  console.log(`
  Trustgate demo is running.

    Open  ${gatewayUrl}/   and sign in as one of the demo users:
${users}

    Development IdP   ${issuer}
    Fleet simulator   ${fleetUrl}/_sim/   (control page: bob fails "Disk encryption enabled";
                      press "Mark fixed" there, as if he turned FileVault on, then "check again")
    Demo app          ${appUrl}   (what the gateway protects)

  Press Ctrl+C to stop.
`);
}
