// `npm run bench`: throughput and p50/p99 latency of the upstream alone, a bare http-proxy forwarder and
// the gateway (signed-in user, compliant device, posture cached), measured in one run on loopback and
// printed as a table with ratios; then the Fleet calls made for 1,000 simultaneous requests from one
// cold device, and the memory of 100,000 cached devices. Bounded in time; reports, does not pass/fail.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
// Targets are measured in interleaved rounds and the median round is reported, so a machine whose
// speed drifts during the run (shared VMs do) affects every target alike.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP_MS = 1000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

interface Targets {
  upstream: string;
  bare: string;
  gateway: string;
  fleet: string;
  cookie: string;
  coldCookie: string;
}

interface Result {
  name: string;
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

async function startServers(): Promise<{ targets: Targets; stop: () => Promise<void> }> {
  // BENCH_PROFILE_DIR=dir writes a CPU profile of the servers' process (open it in Chrome DevTools).
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, '--disable-warning=DEP0060', fileURLToPath(new URL('./servers.ts', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const [line] = (await once(lines, 'line')) as [string];
  return {
    targets: JSON.parse(line) as Targets,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function load(name: string, url: string, headers: Record<string, string>, durationMs: number): Promise<Result> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: CONCURRENCY, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + durationMs;
  async function worker(): Promise<void> {
    while (performance.now() < deadline) {
      const started = performance.now();
      try {
        const { statusCode, body } = await pool.request({ path: '/bench', method: 'GET', headers });
        await body.dump();
        if (statusCode !== 200) errors++;
        else latencies.push(performance.now() - started);
      } catch {
        errors++;
      }
    }
  }
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsedS = (performance.now() - startedAt) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const pick = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { name, requests: latencies.length, errors, rps: latencies.length / elapsedS, p50Ms: pick(0.5), p99Ms: pick(0.99) };
}

/** The round with the median throughput (its latencies come from the same round). */
function median(results: Result[]): Result {
  const sorted = [...results].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor(sorted.length / 2)] as Result;
}

function printTable(results: Result[], baseline: Result): void {
  const rows = results.map((r) => [
    r.name,
    r.requests.toString(),
    r.errors.toString(),
    r.rps.toFixed(0),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    (r.rps / baseline.rps).toFixed(2),
    `${r.p99Ms - baseline.p99Ms >= 0 ? '+' : ''}${(r.p99Ms - baseline.p99Ms).toFixed(2)}`,
  ]);
  const header = ['target', 'requests', 'errors', 'req/s', 'p50 ms', 'p99 ms', 'x bare', 'p99 vs bare'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i] as number)).join('  ');
  console.log(fmt(header));
  for (const row of rows) console.log(fmt(row));
}

/** 1,000 requests at once from a device the gateway has not seen: how many Fleet calls does it make? */
async function coldDeviceBurst(targets: Targets): Promise<void> {
  const stats = async (): Promise<Record<string, number>> =>
    ((await (await fetch(`${targets.fleet}/_sim/stats`)).json()) as { requestCount: Record<string, number> }).requestCount;
  const before = await stats();
  const pool = new Pool(targets.gateway, { connections: 256 });
  const statuses = await Promise.all(
    Array.from({ length: 1000 }, async () => {
      const { statusCode, body } = await pool.request({ path: '/cold', method: 'GET', headers: { cookie: targets.coldCookie, accept: 'application/json' } });
      await body.dump();
      return statusCode;
    }),
  );
  await pool.close();
  const after = await stats();
  const delta = (key: string): number => (after[key] ?? 0) - (before[key] ?? 0);
  const ok = statuses.filter((s) => s === 200).length;
  console.log(`\nCold device, 1,000 simultaneous requests: ${ok} answered 200; Fleet calls: ${delta('listHosts')} email look-up, ${delta('getHost')} host detail (target: 1 each)`);
}

/** Heap used by the posture cache holding 100,000 devices (each with five policies), measured in this process. */
async function cacheMemory(): Promise<void> {
  const { createPostureCache } = await import('../src/pipeline/gather-posture/posture-cache.ts');
  const { createPostureMetrics } = await import('../src/pipeline/gather-posture/posture-cache-metrics.ts');
  const { createFleetClient } = await import('../src/pipeline/gather-posture/fleet-client.ts');
  const { Registry } = await import('prom-client');
  const gc = (globalThis as { gc?: () => void }).gc;
  const fleet = createFleetClient({ baseUrl: 'http://127.0.0.1:9', apiToken: 'unused' });
  const cache = createPostureCache({ fleet, ttlMs: 300_000, staleLimitMs: 900_000, maxEntries: 200_000, now: Date.now, metrics: createPostureMetrics(new Registry()) });
  gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let id = 1; id <= 100_000; id++) cache.store(benchHost(id));
  gc?.();
  const used = process.memoryUsage().heapUsed - before;
  console.log(`Posture cache with ${cache.size().toLocaleString('en')} devices: ${(used / 1048576).toFixed(1)} MiB heap (${Math.round(used / 100_000)} bytes per device)${gc ? '' : ' (no --expose-gc: rough)'}`);
  await fleet.close();
}

function benchHost(id: number) {
  const policy = (pid: number, name: string) => ({ id: pid, name, description: `${name} check`, resolution: `Fix ${name}`, critical: pid === 1, platform: 'darwin', response: 'pass' as const });
  return {
    id,
    uuid: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
    hostname: `laptop-${id}.local`,
    hardwareSerial: `C02BENCH${id}`,
    platform: 'darwin',
    osVersion: 'macOS 15.3.1',
    status: 'online',
    seenTime: new Date(),
    policyUpdatedAt: new Date(),
    refetchRequested: false,
    teamId: null,
    failingPoliciesCount: 0,
    policies: ['Disk encryption enabled', 'Screen lock enabled', 'Firewall enabled', 'macOS up to date', 'Endpoint agent running'].map((name, i) => policy(i + 1, name)),
  };
}

const { targets, stop } = await startServers();
try {
  const auth = { cookie: targets.cookie, accept: 'application/json' };
  console.log(`Benchmark: ${CONCURRENCY} connections, ${ROUNDS} interleaved rounds of ${DURATION_MS} ms per target after ${WARMUP_MS} ms warm-up, loopback only\n`);
  // Every target gets the same request (with the session cookie), so only the hop's work differs.
  const plan: Array<[string, string, Record<string, string>]> = [
    ['upstream', targets.upstream, auth],
    ['bare http-proxy', targets.bare, auth],
    ['trustgate', targets.gateway, auth],
  ];
  // BENCH_ONLY=trustgate (or another name) measures one target alone, e.g. to profile it.
  if (process.env.BENCH_ONLY) plan.splice(0, plan.length, ...plan.filter(([name]) => name.startsWith(process.env.BENCH_ONLY as string)));
  for (const [name, url, headers] of plan) await load(name, url, headers, WARMUP_MS);
  const rounds: Result[][] = plan.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [name, url, headers]] of plan.entries()) rounds[i]?.push(await load(name, url, headers, DURATION_MS));
  }
  const results = rounds.map(median);
  const bare = results.find((r) => r.name === 'bare http-proxy') ?? results[0];
  if (!bare) throw new Error('the benchmark plan is empty');
  printTable(results, bare);
  const gateway = results.find((r) => r.name === 'trustgate');
  if (gateway && gateway !== bare) {
    console.log(
      `\ntarget: trustgate >= 0.90x bare throughput (${(gateway.rps / bare.rps).toFixed(2)}x), p99 within +1 ms (${(gateway.p99Ms - bare.p99Ms).toFixed(2)} ms)`,
    );
  }
  await coldDeviceBurst(targets);
} finally {
  await stop();
}
await cacheMemory();
