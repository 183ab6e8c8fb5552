// Picks up edits made to the config file on disk (by hand, by configuration management, or by another
// replica's admin console on a shared volume): re-validated with the same loader; a file that fails
// validation is refused and the running config keeps serving.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, basename } from 'node:path';
import type { Logger } from 'pino';
import { parseConfigText } from './load-config.ts';
import type { Env } from './substitute-env.ts';
import type { GatewayConfig } from './schema.ts';
import { versionOf } from './version-of.ts';

export interface ConfigWatcher {
  /** Tell the watcher about a version the gateway applied itself (an admin save), so it is not re-applied. */
  applied(version: string): void;
  close(): void;
}

export function watchConfigFile(options: { file: string; initialVersion: string; log: Logger; env?: Env; apply(config: GatewayConfig, version: string): void; pollMs?: number }): ConfigWatcher {
  const { file, log } = options;
  let known = options.initialVersion;
  let timer: NodeJS.Timeout | undefined;

  async function check(): Promise<void> {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) return;
    const version = versionOf(text);
    if (version === known) return;
    known = version;
    try {
      options.apply(parseConfigText(text, file, options.env ?? process.env), version);
      log.info({ file, version }, 'configuration file changed: reloaded');
    } catch (error) {
      log.error({ file, version, problems: (error as { details?: unknown }).details }, 'configuration file changed but is invalid: keeping the running configuration');
    }
  }
  const soon = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void check(), 150);
  };
  // Watch the directory: editors and atomic writers replace the file (rename), which a file watch misses.
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), (_event, name) => {
      if (!name || name.toString() === basename(file)) soon();
    });
  } catch (error) {
    log.warn({ err: String(error) }, 'cannot watch the config directory; polling only');
  }
  // Polling as well: network file systems and some container mounts do not deliver watch events.
  const poll = setInterval(() => void check(), options.pollMs ?? 5_000);
  poll.unref();
  return {
    applied(version) {
      known = version;
    },
    close() {
      watcher?.close();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    },
  };
}
