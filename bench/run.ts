// `npm run bench`: throughput and p50/p99 latency of the upstream alone, a bare http-proxy forwarder and
// the gateway (signed-in user), measured in one run on loopback and printed as a table with ratios.
// Bounded: a fixed number of seconds per target. Not a test: it reports, it does not pass or fail.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const WARMUP_MS = 1000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

interface Targets {
  upstream: string;
  bare: string;
  gateway: string;
  cookie: string;
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

const { targets, stop } = await startServers();
try {
  const auth = { cookie: targets.cookie, accept: 'application/json' };
  console.log(`Benchmark: ${CONCURRENCY} connections, ${DURATION_MS} ms per target after ${WARMUP_MS} ms warm-up, loopback only\n`);
  const plan: Array<[string, string, Record<string, string>]> = [
    ['upstream', targets.upstream, {}],
    ['bare http-proxy', targets.bare, {}],
    ['trustgate', targets.gateway, auth],
  ];
  const results: Result[] = [];
  for (const [name, url, headers] of plan) {
    await load(name, url, headers, WARMUP_MS);
    results.push(await load(name, url, headers, DURATION_MS));
  }
  printTable(results, results[1] as Result);
  const gateway = results[2] as Result;
  const bare = results[1] as Result;
  console.log(
    `\ntarget: trustgate >= 0.90x bare throughput (${(gateway.rps / bare.rps).toFixed(2)}x), p99 within +1 ms (${(gateway.p99Ms - bare.p99Ms).toFixed(2)} ms)`,
  );
} finally {
  await stop();
}
