// The embedded grant store: an append-only, fsync'd JSON-lines event log replayed into memory at start-up
// and compacted to the live state. SINGLE PROCESS ONLY: several gateway replicas must use the Redis store.
import type { Logger } from 'pino';
import { z } from 'zod';
import { GatewayError } from '../errors.ts';
import { cleanGrant, grantSchema, isActive, matchesKey, newestFirst } from './grant.ts';
import type { Grant, GrantKey } from './grant.ts';
import { DEFAULT_RETENTION_MS, guardStore } from './grant-store.ts';
import type { GrantStore, ListOptions } from './grant-store.ts';
import { openJsonLinesFile, readJsonLines } from './json-lines-file.ts';
import { createSerialQueue } from './serial-queue.ts';

export interface FileGrantStoreDeps {
  file: string;
  now: () => number;
  /** Compact once the log holds more lines than this (default 1000). */
  compactAfterLines?: number;
  /** How long expired/revoked grants stay readable and survive compaction (default 7 days). */
  retentionMs?: number;
  log?: Logger;
}

export interface FileGrantStore extends GrantStore {
  /** Rewrites the log as one `created` line per retained grant (current state folded in). */
  compact(): Promise<void>;
  /** Lines currently in the log (tests and metrics). */
  lineCount(): number;
}

// One event per line. `created` carries the whole grant, so a compacted line can hold a grant whose
// revocation or first use happened before the compaction:
//   {"type":"created","grant":{"id":"…","user":"…",…}}
//   {"type":"revoked","id":"…","atMs":1736933400000,"by":"admin@example.com"}
//   {"type":"first-used","id":"…","atMs":1736933400000}
const eventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('created'), grant: grantSchema }),
  z.object({ type: z.literal('revoked'), id: z.string(), atMs: z.number(), by: z.string() }),
  z.object({ type: z.literal('first-used'), id: z.string(), atMs: z.number() }),
]);
type GrantEvent = z.infer<typeof eventSchema>;

const DEFAULT_COMPACT_AFTER_LINES = 1000;

/** Applies one event to the index; later duplicates never overwrite (first revocation / first use wins). */
function apply(grants: Map<string, Grant>, event: GrantEvent): void {
  if (event.type === 'created') {
    if (!grants.has(event.grant.id)) grants.set(event.grant.id, cleanGrant(event.grant));
    return;
  }
  const grant = grants.get(event.id);
  if (!grant) return;
  if (event.type === 'revoked' && grant.revokedAtMs === undefined) {
    grants.set(event.id, { ...grant, revokedAtMs: event.atMs, revokedBy: event.by });
  } else if (event.type === 'first-used' && grant.firstUsedAtMs === undefined) {
    grants.set(event.id, { ...grant, firstUsedAtMs: event.atMs });
  }
}

async function replay(deps: FileGrantStoreDeps): Promise<{ grants: Map<string, Grant>; lines: number }> {
  const read = await readJsonLines(deps.file);
  const grants = new Map<string, Grant>();
  let invalid = read.corruptLines;
  for (const value of read.values) {
    const parsed = eventSchema.safeParse(value);
    if (parsed.success) apply(grants, parsed.data);
    else invalid += 1;
  }
  if (read.tornTail) deps.log?.warn({ file: deps.file }, 'break-glass grant log: torn last line skipped (crash mid-write)');
  if (invalid > 0) deps.log?.error({ file: deps.file, invalid }, 'break-glass grant log: unreadable lines skipped');
  return { grants, lines: read.values.length };
}

export async function createFileGrantStore(deps: FileGrantStoreDeps): Promise<FileGrantStore> {
  const retentionMs = deps.retentionMs ?? DEFAULT_RETENTION_MS;
  const compactAfterLines = deps.compactAfterLines ?? DEFAULT_COMPACT_AFTER_LINES;
  const state = await guardStore('replay', () => replay(deps));
  const grants = state.grants;
  let lines = state.lines;
  const file = openJsonLinesFile(deps.file);
  // Every mutation runs alone: check, append + fsync, then update memory. Readers only ever see
  // durable state, and check-then-set (revoke, markFirstUse) cannot interleave.
  const mutations = createSerialQueue();

  const retained = (grant: Grant, nowMs: number): boolean => nowMs < grant.expiresAtMs + retentionMs;
  // Callers get copies: the index objects must only change through committed events.
  const copy = (grant: Grant | undefined): Grant | undefined => (grant ? { ...grant } : undefined);
  const visible = (id: string): Grant | undefined => {
    const grant = grants.get(id);
    return grant && retained(grant, deps.now()) ? grant : undefined;
  };

  async function compactNow(): Promise<void> {
    const nowMs = deps.now();
    const keep = [...grants.values()].filter((grant) => retained(grant, nowMs)).sort(newestFirst).reverse();
    await file.replace(keep.map((grant) => ({ type: 'created', grant })));
    grants.clear();
    for (const grant of keep) grants.set(grant.id, grant);
    lines = keep.length;
  }

  /** Appends the event durably, applies it, and compacts when the log has grown past the threshold. */
  async function commit(event: GrantEvent): Promise<void> {
    await file.append([event]);
    lines += 1;
    apply(grants, event);
    if (lines <= compactAfterLines) return;
    // The event is already durable: a failed compaction is logged, not reported as a failed mutation.
    await compactNow().catch((error: unknown) => deps.log?.error({ err: error, file: deps.file }, 'break-glass grant log compaction failed'));
  }

  function mutate<T>(operation: string, task: () => Promise<T>): Promise<T> {
    return guardStore(operation, () => mutations.run(task));
  }

  return {
    create: (grant) =>
      mutate('create', async () => {
        if (grants.has(grant.id)) throw new GatewayError('TG_ERR_INTERNAL', `Grant id ${grant.id} already exists`);
        await commit({ type: 'created', grant: cleanGrant(grant) });
      }),

    get: async (id) => copy(visible(id)),

    findActive: async (key: GrantKey, nowMs: number) =>
      [...grants.values()].filter((grant) => matchesKey(grant, key) && isActive(grant, nowMs)).sort(newestFirst).map(copy)[0],

    countCreatedSince: async (user, sinceMs) =>
      [...grants.values()].filter((grant) => grant.user === user && grant.createdAtMs >= sinceMs).length,

    revoke: (id, by, nowMs) =>
      mutate('revoke', async () => {
        const grant = visible(id);
        if (!grant || grant.revokedAtMs !== undefined) return copy(grant);
        await commit({ type: 'revoked', id, atMs: nowMs, by });
        return copy(grants.get(id));
      }),

    markFirstUse: (id, nowMs) =>
      mutate('markFirstUse', async () => {
        const grant = visible(id);
        if (!grant || grant.firstUsedAtMs !== undefined) return false;
        await commit({ type: 'first-used', id, atMs: nowMs });
        return true;
      }),

    list: async (options: ListOptions, nowMs: number) =>
      [...grants.values()]
        .filter((grant) => retained(grant, nowMs) && (!options.activeOnly || isActive(grant, nowMs)))
        .sort(newestFirst)
        .slice(0, options.limit)
        .map((grant) => ({ ...grant })),

    compact: () => mutate('compact', compactNow),
    lineCount: () => lines,
    close: () => mutate('close', () => file.close()),
  };
}
