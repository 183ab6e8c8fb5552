// A durable JSON-lines file: appends are fsync'd before they resolve, a torn last line left by a crash
// is cut off on open, and the whole content can be replaced atomically (temp file, fsync, rename, fsync dir).
import { mkdir, open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createSerialQueue } from './serial-queue.ts';

export interface JsonLinesFile {
  /** Appends one line per value (a single write) and fsyncs before resolving. */
  append(values: readonly unknown[]): Promise<void>;
  /** Atomically replaces the whole file with these values. */
  replace(values: readonly unknown[]): Promise<void>;
  close(): Promise<void>;
}

export interface ReadResult {
  values: unknown[];
  /** Complete lines that were not valid JSON (skipped, reported by the caller). */
  corruptLines: number;
  /** Whether a partial last line was found and cut off. */
  tornTail: boolean;
}

const NEWLINE = 0x0a;

export function encodeLines(values: readonly unknown[]): string {
  return values.map((value) => `${JSON.stringify(value)}\n`).join('');
}

/**
 * Reads every complete line. A last line without its newline is what a crash mid-append leaves: it is
 * skipped and truncated away, so the next append starts on a fresh line instead of gluing onto it.
 */
export async function readJsonLines(file: string): Promise<ReadResult> {
  const handle = await openOrCreate(file, 'r+');
  try {
    const buffer = await handle.readFile();
    const end = buffer.lastIndexOf(NEWLINE) + 1;
    const tornTail = end < buffer.length;
    if (tornTail) {
      await handle.truncate(end);
      await handle.sync();
    }
    const values: unknown[] = [];
    let corruptLines = 0;
    for (const line of buffer.subarray(0, end).toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        values.push(JSON.parse(line));
      } catch {
        corruptLines += 1;
      }
    }
    return { values, corruptLines, tornTail };
  } finally {
    await handle.close();
  }
}

async function openOrCreate(file: string, flags: 'r+' | 'a'): Promise<FileHandle> {
  await mkdir(path.dirname(file), { recursive: true });
  try {
    return await open(file, flags);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // 'r+' does not create; 'a+' does, and it still lets readJsonLines read and truncate.
    return open(file, 'a+');
  }
}

/** fsync on the directory makes a rename (or a newly created file) itself survive power loss. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function openJsonLinesFile(file: string): JsonLinesFile {
  const queue = createSerialQueue();
  let handle: FileHandle | undefined;
  let size = 0;

  async function writable(): Promise<FileHandle> {
    if (handle) return handle;
    const created = await openOrCreate(file, 'a');
    size = (await created.stat()).size;
    handle = created;
    return created;
  }

  async function appendNow(values: readonly unknown[]): Promise<void> {
    const target = await writable();
    const data = Buffer.from(encodeLines(values), 'utf8');
    try {
      await target.appendFile(data);
      await target.sync();
      size += data.length;
    } catch (error) {
      // A partial write would glue the next line onto a fragment: cut back to the last good size.
      await target.truncate(size).catch(() => undefined);
      throw error;
    }
  }

  async function replaceNow(values: readonly unknown[]): Promise<void> {
    const temp = `${file}.${process.pid}.tmp`;
    const data = Buffer.from(encodeLines(values), 'utf8');
    const out = await open(temp, 'w');
    try {
      await out.writeFile(data);
      await out.sync();
    } finally {
      await out.close();
    }
    try {
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    await syncDirectory(path.dirname(file));
    // The old handle points at the replaced inode; the next append reopens the new file.
    const stale = handle;
    handle = undefined;
    await stale?.close().catch(() => undefined);
  }

  return {
    append: (values) => queue.run(() => appendNow(values)),
    replace: (values) => queue.run(() => replaceNow(values)),
    close: () =>
      queue.run(async () => {
        await handle?.close();
        handle = undefined;
      }),
  };
}
