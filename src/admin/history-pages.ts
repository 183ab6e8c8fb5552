// The admin console's read-only pages: the config history (newest first, each version restorable) and the
// recent decisions with who, which device, which route, why, and the trust score's explanation.
import type { RequestContext } from '../pipeline/request-context.ts';
import type { HistoryEntry } from './history-log.ts';
import type { TrustLogEntry } from '../pipeline/decide/trust/explain-trust.ts';
import { ADMIN_BASE, adminForPage, editableStore, fileVersion, formBasics, queryOf } from './console-front.ts';
import { sendPage } from '../http/respond.ts';

export async function showHistory(ctx: RequestContext): Promise<void> {
  const session = await adminForPage(ctx);
  if (!session) return;
  const store = editableStore(ctx).store;
  const [current, history] = await Promise.all([fileVersion(store), store.history()]);
  sendPage(ctx, 200, 'admin-history', {
    title: 'Configuration history',
    currentVersion: current.version,
    versions: withOriginal(history).map((entry) => ({ ...entry, current: entry.version === current.version })),
    ...formBasics(ctx, session, `${ADMIN_BASE}/history`),
  });
}

/** The history plus the version the first recorded save replaced, so it can be restored too. */
function withOriginal(history: HistoryEntry[]): HistoryEntry[] {
  const oldest = history.at(-1);
  if (!oldest?.previous || history.some((h) => h.version === oldest.previous)) return history;
  return [...history, { version: oldest.previous, author: '—', comment: 'the configuration before the first change saved here', time: '', previous: '' }];
}

const VERDICTS = ['allow', 'deny', 'authenticate'];

export async function showDecisions(ctx: RequestContext): Promise<void> {
  const session = await adminForPage(ctx);
  if (!session) return;
  const query = queryOf(ctx);
  const filter = { user: query.get('user')?.trim() ?? '', route: query.get('route')?.trim() ?? '', verdict: query.get('verdict') ?? '' };
  if (!VERDICTS.includes(filter.verdict)) filter.verdict = '';
  const entries = ctx.runtime.decisions.recent({ ...filter, limit: 200 }).map((entry) => ({
    ...entry,
    trustLines: trustLines(entry.trust),
  }));
  sendPage(ctx, 200, 'admin-decisions', {
    title: 'Recent decisions',
    filter,
    verdicts: VERDICTS,
    routes: ctx.runtime.config.routes.map((r) => r.name),
    entries,
    ...formBasics(ctx, session, `${ADMIN_BASE}/decisions`),
  });
}

/** The score's explanation as lines: points per section, tables without data, and each shortfall. */
function trustLines(trust: unknown): string[] {
  if (!trust || typeof trust !== 'object') return [];
  const t = trust as Partial<TrustLogEntry>;
  const lines = Object.entries(t.sections ?? {}).map(([section, points]) => `${section}: ${points} points`);
  if (t.bonus) lines.push(`bonus: ${t.bonus} points`);
  for (const table of t.missingTables ?? []) lines.push(`no usable data: ${table}`);
  for (const s of t.shortfalls ?? []) lines.push(`${s.column}: ${s.outcome === 'unknown' ? 'unknown' : 'does not match'}; expected ${s.expected}${s.actual ? `, found ${s.actual.join(', ')}` : ''}`);
  return lines;
}
