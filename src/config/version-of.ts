// The version of a config text: a short content hash, so the watcher, the admin store and the console
// agree on which text is current without a counter to keep in step.
import { createHash } from 'node:crypto';

export function versionOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
