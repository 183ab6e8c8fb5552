// The config history's append-only JSON-lines file: one entry per saved version. A crash can leave the
// last line half written (a "torn" line); reading skips any line that is not a whole entry, and the next
// append starts on a fresh line, so one torn write never hides the entries before or after it.
import { open, readFile } from 'node:fs/promises';
import { z } from 'zod';

export interface HistoryEntry {
  readonly version: string;
  readonly author: string;
  readonly comment: string;
  readonly time: string;
  /** The version this one replaced (empty for the first recorded one). */
  readonly previous: string;
}

const historyEntry = z.object({ version: z.string(), author: z.string(), comment: z.string(), time: z.string(), previous: z.string() });

/** The entries in `file`, newest first; a missing file is an empty history. */
export async function readHistory(file: string): Promise<HistoryEntry[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').flatMap(parseEntry).reverse();
}

function parseEntry(line: string): HistoryEntry[] {
  if (line.trim() === '') return [];
  try {
    const parsed = historyEntry.safeParse(JSON.parse(line));
    return parsed.success ? [parsed.data] : [];
  } catch {
    return [];
  }
}

/** Appends `entry` as one line and fsyncs; after a torn last line it starts a new line first. */
export async function appendHistory(file: string, entry: HistoryEntry): Promise<void> {
  const handle = await open(file, 'a+');
  try {
    const { size } = await handle.stat();
    const last = Buffer.alloc(1);
    if (size > 0) await handle.read(last, 0, 1, size - 1);
    const torn = size > 0 && last.toString('utf8') !== '\n';
    await handle.write(`${torn ? '\n' : ''}${JSON.stringify(entry)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
