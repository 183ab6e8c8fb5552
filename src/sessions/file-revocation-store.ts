// The single-node revocation list: an append-only, fsync'd JSON-lines log replayed at start-up and
// compacted to the live records. A line that cannot be read is a start-up error, never a skipped
// revocation: a restart must not bring a revoked session back. SINGLE PROCESS ONLY (use Redis for replicas).
import type { Logger } from 'pino';
import { z } from 'zod';
import { GatewayError } from '../errors.ts';
import { openJsonLinesFile, readJsonLines } from '../break-glass/json-lines-file.ts';
import { createSerialQueue } from '../break-glass/serial-queue.ts';
import { mergeRecords, recordKey, revocationRecordSchema, type RevocationRecord } from './revocation-record.ts';
import { guardRevocationStore, type RevocationStore } from './revocation-store.ts';

//   {"type":"revoked","record":{"kind":"session","id":"…","expiresAtMs":…}}
//   {"type":"claimed","key":"jti:…","expiresAtMs":…}
const eventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('revoked'), record: revocationRecordSchema }),
  z.object({ type: z.literal('claimed'), key: z.string().min(1), expiresAtMs: z.number() }),
]);
type RevocationEvent = z.infer<typeof eventSchema>;

export interface FileRevocationStoreDeps {
  path: string;
  now: () => number;
  /** Compact once the log holds more lines than this (default 1000). */
  compactAfterLines?: number;
  log?: Logger;
}

export async function createFileRevocationStore(deps: FileRevocationStoreDeps): Promise<RevocationStore> {
  const compactAfterLines = deps.compactAfterLines ?? 1000;
  const records = new Map<string, RevocationRecord>();
  const claims = new Map<string, number>();
  const apply = (event: RevocationEvent): void => {
    if (event.type === 'claimed') {
      claims.set(event.key, Math.max(event.expiresAtMs, claims.get(event.key) ?? 0));
      return;
    }
    const key = recordKey(event.record);
    const before = records.get(key);
    records.set(key, before ? mergeRecords(before, event.record) : event.record);
  };

  const read = await guardRevocationStore('start-up', () => readJsonLines(deps.path));
  let bad = read.corruptLines;
  for (const value of read.values) {
    const parsed = eventSchema.safeParse(value);
    if (parsed.success) apply(parsed.data);
    else bad += 1;
  }
  if (bad > 0) {
    throw new GatewayError('TG_ERR_REVOCATION_UNAVAILABLE', `The session revocation file ${deps.path} has ${bad} unreadable line(s); refusing to start rather than forget a revocation. Fix or remove those lines.`);
  }
  if (read.tornTail) deps.log?.warn({ file: deps.path }, 'session revocation log: torn last line skipped (crash mid-write, never acknowledged)');

  const file = openJsonLinesFile(deps.path);
  const mutations = createSerialQueue();
  let lines = read.values.length;

  function forgetExpired(nowMs: number): void {
    for (const [key, record] of records) if (record.expiresAtMs <= nowMs) records.delete(key);
    for (const [key, expiresAtMs] of claims) if (expiresAtMs <= nowMs) claims.delete(key);
  }

  async function compact(): Promise<void> {
    forgetExpired(deps.now());
    const events: RevocationEvent[] = [
      ...[...records.values()].map((record) => ({ type: 'revoked' as const, record })),
      ...[...claims].map(([key, expiresAtMs]) => ({ type: 'claimed' as const, key, expiresAtMs })),
    ];
    await file.replace(events);
    lines = events.length;
  }

  async function commit(event: RevocationEvent): Promise<void> {
    await file.append([event]);
    lines += 1;
    apply(event);
    if (lines <= compactAfterLines) return;
    // The event is durable already: a failed compaction is logged, not reported as a failed revocation.
    await compact().catch((error: unknown) => deps.log?.error({ err: error, file: deps.path }, 'session revocation log compaction failed'));
  }

  await guardRevocationStore('start-up compaction', compact);
  const mutate = <T>(operation: string, task: () => Promise<T>): Promise<T> => guardRevocationStore(operation, () => mutations.run(task));

  return {
    load: async (nowMs) => [...records.values()].filter((record) => record.expiresAtMs > nowMs),
    add: (record) => mutate('add', () => commit({ type: 'revoked', record })),
    claimOnce: (key, expiresAtMs) =>
      mutate('claim', async () => {
        const held = claims.get(key);
        if (held !== undefined && held > deps.now()) return false;
        await commit({ type: 'claimed', key, expiresAtMs });
        return true;
      }),
    subscribe: () => undefined,
    close: () => mutate('close', () => file.close()),
  };
}
