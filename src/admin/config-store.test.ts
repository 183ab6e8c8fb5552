// The admin's config file: validated saves, optimistic concurrency, history and restore, atomic writes,
// and route edits that keep the comments of everything else.
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createConfigStore } from './config-store.ts';
import { versionOf } from '../config/version-of.ts';
import { applyRouteEdit } from './edit-routes.ts';

const BASE = `# top comment: keep me
listeners:
  - { address: 127.0.0.1, port: 0 }
oidc:
  issuer: http://127.0.0.1:9001
  clientId: c
  clientSecret: \${SECRET:-s}   # a secret from the environment
session:
  secrets: [0123456789abcdef0123456789abcdef]
routes:
  # the wiki route: keep this comment
  - name: wiki
    host: wiki.example.com
    upstream: http://127.0.0.1:3000
    allowedGroups: [engineering]
`;

async function fixture() {
  const dir = await mkdtemp(join(tmpdir(), 'tg-config-'));
  const file = join(dir, 'trustgate.yaml');
  await writeFile(file, BASE);
  let t = Date.parse('2026-11-22T10:00:00Z');
  return { dir, file, store: createConfigStore({ file, env: {}, now: () => (t += 1000) }) };
}

describe('config store', () => {
  test('a save writes the validated text and records who, when and why', async () => {
    const { file, store } = await fixture();
    const before = await store.current();
    const next = applyRouteEdit(before.text, { kind: 'create', route: { name: 'grafana', host: 'grafana.example.com', upstream: 'http://127.0.0.1:3001', allowedGroups: ['sre'] } });
    const saved = await store.save(next, { baseVersion: before.version, author: 'alice@example.com', comment: 'add grafana' });
    expect(await readFile(file, 'utf8')).toBe(next);
    expect(saved.config.routes.map((r) => r.name)).toEqual(['wiki', 'grafana']);
    const [entry] = await store.history();
    expect(entry).toMatchObject({ version: saved.version, previous: before.version, author: 'alice@example.com', comment: 'add grafana' });
    expect(await store.textOf(before.version)).toBe(BASE);
  });

  test('route edits keep comments and ${ENV} placeholders of untouched parts', async () => {
    const edited = applyRouteEdit(BASE, { kind: 'update', name: 'wiki', route: { name: 'wiki', host: 'wiki.example.com', upstream: 'http://127.0.0.1:3000', allowedGroups: ['engineering', 'support'] } });
    expect(edited).toContain('# top comment: keep me');
    expect(edited).toMatch(/\$\{SECRET:-s\} +# a secret from the environment/);
    expect(edited).toContain('# the wiki route: keep this comment');
    expect(edited).toContain('support');
    expect(applyRouteEdit(edited, { kind: 'delete', name: 'wiki' })).not.toContain('wiki.example.com');
    expect(() => applyRouteEdit(BASE, { kind: 'delete', name: 'nope' })).toThrow(/no route "nope"/);
  });

  test('a save based on an old version is a conflict, and the file is left alone', async () => {
    const { file, store } = await fixture();
    const base = await store.current();
    const first = applyRouteEdit(base.text, { kind: 'create', route: { name: 'a', host: 'a.example.com', upstream: 'http://127.0.0.1:1', allowAnyAuthenticatedUser: true } });
    await store.save(first, { baseVersion: base.version, author: 'a', comment: '1' });
    const stale = applyRouteEdit(base.text, { kind: 'update', name: 'wiki', route: { name: 'wiki', host: 'x.example.com', upstream: 'http://127.0.0.1:2', allowAnyAuthenticatedUser: true } });
    await expect(store.save(stale, { baseVersion: base.version, author: 'b', comment: '2' })).rejects.toMatchObject({ code: 'TG_ERR_CONFLICT', status: 409 });
    expect(await readFile(file, 'utf8')).toBe(first);
  });

  test('an invalid config is refused with its problems and nothing is written', async () => {
    const { file, store } = await fixture();
    const base = await store.current();
    const broken = applyRouteEdit(base.text, { kind: 'create', route: { name: 'Bad Name', host: 'x', upstream: 'ftp://x' } });
    await expect(store.save(broken, { baseVersion: base.version, author: 'a', comment: 'x' })).rejects.toMatchObject({ code: 'TG_ERR_CONFIG_INVALID' });
    expect(await readFile(file, 'utf8')).toBe(BASE);
    expect(await store.history()).toEqual([]);
  });

  test('rolling back is saving an old version again', async () => {
    const { store, dir } = await fixture();
    const v1 = await store.current();
    const v2 = await store.save(applyRouteEdit(v1.text, { kind: 'create', route: { name: 'b', host: 'b.example.com', upstream: 'http://127.0.0.1:1', allowAnyAuthenticatedUser: true } }), { baseVersion: v1.version, author: 'a', comment: 'add b' });
    const back = await store.save(await store.textOf(v1.version), { baseVersion: v2.version, author: 'a', comment: `roll back to ${v1.version}` });
    expect(back.version).toBe(versionOf(BASE));
    expect(back.config.routes.map((r) => r.name)).toEqual(['wiki']);
    expect((await store.history()).map((h) => h.comment)).toEqual([`roll back to ${v1.version}`, 'add b']);
    // Atomic writes leave no temp files behind.
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
