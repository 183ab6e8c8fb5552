// The config file as admins edit it: read with a version (hash of the text), save with optimistic
// concurrency (a save based on an old version is a conflict, never a silent overwrite), validated by
// the same loader the gateway starts with, written atomically (temp file, fsync, rename), and every
// version kept in a history with author, time and comment so any of them can be restored.
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GatewayError } from '../errors.ts';
import { parseConfigText } from '../config/load-config.ts';
import type { Env } from '../config/substitute-env.ts';
import { versionOf } from '../config/version-of.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { appendHistory, readHistory, type HistoryEntry } from './history-log.ts';

export interface ConfigVersion {
  readonly version: string;
  readonly text: string;
  readonly config: GatewayConfig;
}

export interface ConfigStore {
  readonly file: string;
  /** Where the file's ${NAME} references are looked up. */
  readonly env: Env;
  current(): Promise<ConfigVersion>;
  /** Validates and writes `text`; TG_ERR_CONFLICT when the file is no longer at `baseVersion`. */
  save(text: string, meta: { baseVersion: string; author: string; comment: string }): Promise<ConfigVersion>;
  history(): Promise<HistoryEntry[]>;
  /** The text of a recorded version. */
  textOf(version: string): Promise<string>;
}

export function createConfigStore(options: { file: string; historyDir?: string; env?: Env; now?: () => number }): ConfigStore {
  const { file } = options;
  const historyDir = options.historyDir ?? join(dirname(file), '.trustgate-history', basename(file));
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  let saving = Promise.resolve();

  async function current(): Promise<ConfigVersion> {
    const text = await readFile(file, 'utf8');
    return { version: versionOf(text), text, config: parseConfigText(text, file, env) };
  }

  async function keep(version: string, text: string): Promise<void> {
    await mkdir(historyDir, { recursive: true });
    await writeAtomically(join(historyDir, `${version}.yaml`), text);
  }

  async function save(text: string, meta: { baseVersion: string; author: string; comment: string }): Promise<ConfigVersion> {
    const config = parseConfigText(text, 'the edited configuration', env);
    // One save at a time in this process; the version check catches other writers (people, replicas).
    const run = saving.then(async () => {
      const before = await readFile(file, 'utf8');
      const previous = versionOf(before);
      if (previous !== meta.baseVersion) {
        throw new GatewayError('TG_ERR_CONFLICT', 'The configuration changed since you opened it. Review the current version and apply your change again.', {
          details: { currentVersion: previous, baseVersion: meta.baseVersion },
        });
      }
      const version = versionOf(text);
      if (!(await hasVersion(previous))) await keep(previous, before);
      await keep(version, text);
      await writeAtomically(file, text);
      await appendHistory(join(historyDir, 'history.jsonl'), { version, previous, author: meta.author, comment: meta.comment, time: new Date(now()).toISOString() });
      return { version, text, config };
    });
    saving = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async function hasVersion(version: string): Promise<boolean> {
    const names = await readdir(historyDir).catch(() => [] as string[]);
    return names.includes(`${version}.yaml`);
  }

  return {
    file,
    env,
    current,
    save,
    history: () => readHistory(join(historyDir, 'history.jsonl')),
    async textOf(version) {
      if (!/^[0-9a-f]{16}$/.test(version)) throw new GatewayError('TG_ERR_NO_ROUTE', 'There is no such version.');
      return readFile(join(historyDir, `${version}.yaml`), 'utf8').catch(() => {
        throw new GatewayError('TG_ERR_NO_ROUTE', 'There is no such version.');
      });
    },
  };
}

/** Temp file in the same directory, fsync, rename over the target, fsync the directory. */
export async function writeAtomically(target: string, text: string): Promise<void> {
  const temp = join(dirname(target), `.${basename(target)}.${randomUUID()}.tmp`);
  const handle = await open(temp, 'w', 0o640);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, target);
  const dir = await open(dirname(target), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
