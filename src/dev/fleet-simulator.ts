// A Fleet server simulator for dev and tests, speaking Fleet's REST wire format (plain node:http).
// The /_sim/ control API and its HTML page (GET /_sim/) need no token and can rewrite results: never
// expose them beyond dev/test.
import { closeServer, listen } from '../http/listen.ts';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { loadSimulatorData } from './fleet-simulator-data.ts';
import { CONTROL_PAGE_LOCATION, CONTROL_PAGE_PATHS, formToControlBody, isCrossSiteForm, isFormPost, sendControlPage } from './fleet-simulator-page.ts';
import type { SimulatorData } from './fleet-simulator-data.ts';
import { createSimulatorState } from './fleet-simulator-state.ts';
import type { SimulatedHost, SimulatorEndpoint, SimulatorState } from './fleet-simulator-state.ts';
import { deviceMappingBody, errorBody, globalPoliciesBody, hostDetailBody, hostListItemBody, teamPoliciesBody } from './fleet-simulator-wire.ts';

export interface FleetSimulatorOptions {
  host?: string;
  port?: number;
  data: SimulatorData;
  apiToken: string;
  /** How long after a refetch request the simulated agent checks in (fleetd: ~10 s). */
  refetchDelayMs?: number;
  now?: () => number;
  random?: () => number;
}

export interface FleetSimulator {
  url: string;
  port: number;
  state: SimulatorState;
  close(): Promise<void>;
}

type Json = Record<string, unknown> | unknown[];
interface Reply { status: number; body: Json; headers?: Record<string, string> }
interface Route { endpoint: SimulatorEndpoint; handle: (url: URL) => Reply }

const API = '/api/v1/fleet';
const MAX_CONTROL_BODY_BYTES = 64 * 1024;

const knobsPatchSchema = z.object({
  latencyMs: z.number().int().min(0).max(120_000).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  outage: z.boolean().optional(),
  outageMode: z.enum(['reset', 'unavailable']).optional(),
  failNext: z.number().int().min(0).optional(),
  failStatus: z.number().int().min(400).max(599).optional(),
  retryAfterSec: z.number().int().min(0).nullable().optional(),
  listDeviceMapping: z.boolean().optional(),
});
const policyResultSchema = z.object({ response: z.enum(['pass', 'fail', '']), immediate: z.boolean().optional() });

function send(res: ServerResponse, { status, body, headers = {} }: Reply): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function notFound(what: string): Reply {
  return { status: 404, body: errorBody('Resource Not Found', `${what} was not found in the datastore`) };
}

function findByIdentifier(state: SimulatorState, identifier: string): SimulatedHost | undefined {
  // Fleet matches hostname, uuid, hardware_serial (and agent keys) exactly; LIMIT 1.
  return [...state.hosts.values()].find(
    (host) => host.data.uuid === identifier || host.data.hostname === identifier || (host.data.hardware_serial !== '' && host.data.hardware_serial === identifier),
  );
}

function listHosts(state: SimulatorState, url: URL): Reply {
  const query = (url.searchParams.get('query') ?? '').toLowerCase();
  const matches = [...state.hosts.values()].filter((host) => {
    const fields = [host.data.hostname, host.data.computer_name ?? '', host.data.uuid, host.data.hardware_serial, host.data.primary_ip ?? '', ...host.data.emails.map((entry) => entry.email)];
    return query === '' || fields.some((field) => field.toLowerCase().includes(query));
  });
  // Without per_page Fleet returns everything; pages are 0-based.
  const perPage = Number(url.searchParams.get('per_page') ?? '0');
  const page = Number(url.searchParams.get('page') ?? '0');
  const slice = perPage > 0 ? matches.slice(page * perPage, (page + 1) * perPage) : matches;
  const withMapping = state.knobs.listDeviceMapping && url.searchParams.get('device_mapping') === 'true';
  return { status: 200, body: { hosts: slice.map((host) => hostListItemBody(state, host, withMapping)) } };
}

/** The simulator has no team list: a team exists when a host or a policy belongs to it. */
function teamExists(state: SimulatorState, teamId: number): boolean {
  return state.data.hosts.some((host) => host.team_id === teamId) || state.data.policies.some((policy) => policy.team_id === teamId);
}

function hostRoute(state: SimulatorState, id: string, handle: (host: SimulatedHost) => Reply): Reply {
  const host = state.hosts.get(Number(id));
  return host ? handle(host) : notFound(`Host ${id}`);
}

function matchFleetRoute(state: SimulatorState, method: string, path: string): Route | undefined {
  let m: RegExpExecArray | null;
  if (method === 'GET' && (m = /^\/hosts\/identifier\/([^/]+)$/.exec(path))) {
    const identifier = decodeURIComponent(m[1] ?? '');
    return { endpoint: 'getHostByIdentifier', handle: (url) => {
      const host = findByIdentifier(state, identifier);
      return host ? { status: 200, body: { host: hostDetailBody(state, host, url.searchParams.get('exclude_software') !== 'true') } } : notFound(`Host ${identifier}`);
    } };
  }
  if (method === 'GET' && (m = /^\/hosts\/(\d+)$/.exec(path))) {
    const id = m[1] ?? '';
    return { endpoint: 'getHost', handle: (url) => hostRoute(state, id, (host) => ({ status: 200, body: { host: hostDetailBody(state, host, url.searchParams.get('exclude_software') !== 'true') } })) };
  }
  if (method === 'GET' && (m = /^\/hosts\/(\d+)\/device_mapping$/.exec(path))) {
    const id = m[1] ?? '';
    return { endpoint: 'getDeviceMapping', handle: () => hostRoute(state, id, (host) => ({ status: 200, body: { host_id: host.data.id, device_mapping: deviceMappingBody(host) } })) };
  }
  if (method === 'POST' && (m = /^\/hosts\/(\d+)\/refetch$/.exec(path))) {
    const id = m[1] ?? '';
    return { endpoint: 'refetchHost', handle: () => hostRoute(state, id, (host) => (state.requestRefetch(host), { status: 200, body: {} })) };
  }
  if (method === 'GET' && path === '/hosts') return { endpoint: 'listHosts', handle: (url) => listHosts(state, url) };
  if (method === 'GET' && path === '/global/policies') return { endpoint: 'listGlobalPolicies', handle: () => ({ status: 200, body: { policies: globalPoliciesBody(state) } }) };
  if (method === 'GET' && (m = /^\/teams\/(\d+)\/policies$/.exec(path))) {
    const teamId = Number(m[1]);
    return { endpoint: 'listTeamPolicies', handle: () => (teamExists(state, teamId) ? { status: 200, body: teamPoliciesBody(state, teamId) } : notFound(`Team ${teamId}`)) };
  }
  return undefined;
}

/** Injected faults, in the order a real outage would show them. Returns true when handled. */
function injectFault(state: SimulatorState, res: ServerResponse, random: () => number): boolean {
  const { knobs } = state;
  if (knobs.outage) {
    if (knobs.outageMode === 'reset') res.socket?.destroy();
    else send(res, { status: 503, body: errorBody('Service Unavailable', 'simulated outage') });
    return true;
  }
  const failNow = knobs.failNext > 0 || (knobs.errorRate > 0 && random() < knobs.errorRate);
  if (!failNow) return false;
  const status = knobs.failNext > 0 ? knobs.failStatus : 500;
  if (knobs.failNext > 0) knobs.failNext -= 1;
  const headers: Record<string, string> = knobs.retryAfterSec === null ? {} : { 'retry-after': String(knobs.retryAfterSec) };
  const message = status === 429 ? `limit exceeded, retry after: ${knobs.retryAfterSec ?? 1}s` : 'Internal Server Error';
  send(res, { status, headers, body: errorBody(message, status === 429 ? message : 'simulated failure') });
  return true;
}

function checkAuth(header: string | undefined, apiToken: string): Reply | undefined {
  if (!header) return { status: 401, body: errorBody('Authorization header required') };
  if (header !== `Bearer ${apiToken}`) return { status: 401, body: errorBody('Authentication required') };
  return undefined;
}

async function readText(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_CONTROL_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The control page's forms post urlencoded and get a 303 back to the page; API callers post JSON. */
async function handleControl(state: SimulatorState, req: IncomingMessage, path: string): Promise<Reply> {
  if (!isFormPost(req)) return controlRoute(state, req, path, req.method === 'POST' ? await readJson(req) : {});
  if (isCrossSiteForm(req)) return { status: 403, body: errorBody('Forbidden', 'cross-site form posts are refused') };
  const reply = controlRoute(state, req, path, formToControlBody(path, new URLSearchParams(await readText(req))));
  return reply.status === 200 ? { status: 303, body: {}, headers: { location: CONTROL_PAGE_LOCATION } } : reply;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readText(req);
  return text === '' ? {} : JSON.parse(text);
}

function controlRoute(state: SimulatorState, req: IncomingMessage, path: string, body: unknown): Reply {
  if (req.method === 'POST' && path === '/_sim/knobs') {
    const patch = knobsPatchSchema.safeParse(body);
    return patch.success ? { status: 200, body: { ...state.setKnobs(patch.data) } } : { status: 422, body: errorBody('Validation Failed', patch.error.message) };
  }
  const m = /^\/_sim\/hosts\/(\d+)\/policies\/(\d+)$/.exec(path);
  if (req.method === 'POST' && m) {
    const parsed = policyResultSchema.safeParse(body);
    if (!parsed.success) return { status: 422, body: errorBody('Validation Failed', parsed.error.message) };
    const ok = state.setPolicyResult(Number(m[1]), Number(m[2]), parsed.data.response, parsed.data.immediate ?? false);
    return ok ? { status: 200, body: { applied: parsed.data.immediate ?? false } } : notFound(`Host ${m[1]} or policy ${m[2]}`);
  }
  if (req.method === 'GET' && path === '/_sim/stats') return { status: 200, body: { ...state.stats } };
  if (req.method === 'GET' && path === '/_sim/knobs') return { status: 200, body: { ...state.knobs } };
  if (req.method === 'POST' && path === '/_sim/reset') return (state.reset(), { status: 200, body: {} });
  return notFound(`Control route ${req.method} ${path}`);
}

function createFleetHandler(state: SimulatorState, options: { apiToken: string; random: () => number; timers: Set<NodeJS.Timeout> }) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const route = matchFleetRoute(state, req.method ?? 'GET', url.pathname.slice(API.length));
    const stats = state.stats;
    stats.requestCount[route?.endpoint ?? 'unknown'] += 1;
    stats.totalRequests += 1;
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    res.once('close', () => { stats.inFlight -= 1; });
    req.resume();
    if (state.knobs.latencyMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { options.timers.delete(timer); resolve(); }, state.knobs.latencyMs);
        options.timers.add(timer);
      });
    }
    if (res.destroyed || injectFault(state, res, options.random)) return;
    const denied = checkAuth(req.headers.authorization, options.apiToken);
    send(res, denied ?? route?.handle(url) ?? notFound(`Route ${req.method} ${url.pathname}`));
  };
}

export async function startFleetSimulator(options: FleetSimulatorOptions): Promise<FleetSimulator> {
  const state = createSimulatorState({ data: options.data, refetchDelayMs: options.refetchDelayMs ?? 1_500, now: options.now ?? Date.now });
  const timers = new Set<NodeJS.Timeout>();
  const handleFleet = createFleetHandler(state, { apiToken: options.apiToken, random: options.random ?? Math.random, timers });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const work = req.method === 'GET' && CONTROL_PAGE_PATHS.has(url.pathname)
      ? Promise.resolve(sendControlPage(res, state))
      : url.pathname.startsWith('/_sim/')
      ? handleControl(state, req, url.pathname).then((reply) => send(res, reply))
      : url.pathname.startsWith(`${API}/`)
          ? handleFleet(req, res, url)
          : Promise.resolve(send(res, notFound(`Route ${req.method} ${url.pathname}`)));
    work.catch((error: unknown) => send(res, { status: 400, body: errorBody('Bad request', String(error)) }));
  });
  await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const { port, address } = server.address() as AddressInfo;
  const hostForUrl = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    state,
    close: async () => {
      state.dispose();
      for (const timer of timers) clearTimeout(timer);
      await closeServer(server);
    },
  };
}

// `node src/dev/fleet-simulator.ts [data.yaml]` runs it standalone for the local demo.
if (import.meta.main) {
  const data = await loadSimulatorData(process.argv[2] ?? 'config/fleet-simulator.yaml');
  const simulator = await startFleetSimulator({
    data,
    apiToken: process.env.FLEET_SIM_API_TOKEN ?? 'dev-fleet-token',
    port: Number(process.env.FLEET_SIM_PORT ?? 8412),
  });
  console.log(`Fleet simulator listening on ${simulator.url} (control page: ${simulator.url}/_sim/)`);
}
