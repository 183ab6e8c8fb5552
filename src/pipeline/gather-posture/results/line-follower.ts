// Follows a growing JSON-lines file the way `tail -F` does: reads from the last offset on each poll and
// survives rotation and truncation; cutting the bytes into lines is line-splitter.ts's job.
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { createLineSplitter, type LineSplitter, type SkipReason } from './line-splitter.ts';

export interface LineFollowerOptions {
  file: string;
  /** A longer line is dropped (and reported) instead of growing memory without bound. */
  maxLineBytes: number;
  onLine: (line: string) => void;
  onSkip: (reason: SkipReason) => void;
  /** `rotated`: the path now names another file (inode changed); `truncated`: the same file shrank. */
  onReset: (kind: 'rotated' | 'truncated') => void;
  readChunkBytes?: number;
}

export interface LineFollower {
  /** One catch-up pass; the caller serialises calls. */
  poll(): Promise<void>;
  close(): Promise<void>;
}

async function statOrNull(file: string): Promise<{ ino: number; size: number } | null> {
  try {
    return await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The file being followed: which one (inode), how far it has been read, and the open handle. */
interface Followed {
  readonly options: LineFollowerOptions;
  readonly chunkBytes: number;
  readonly lines: LineSplitter;
  handle: FileHandle | null;
  ino: number;
  offset: number;
}

export function createLineFollower(options: LineFollowerOptions): LineFollower {
  const followed: Followed = {
    options,
    chunkBytes: options.readChunkBytes ?? 64 * 1024,
    lines: createLineSplitter(options),
    handle: null,
    ino: -1,
    offset: 0,
  };
  return {
    poll: () => poll(followed),
    close: async () => {
      const current = followed.handle;
      followed.handle = null;
      await current?.close();
    },
  };
}

/** Reads from `offset` to the current end of the open file. */
async function drain(followed: Followed, current: FileHandle): Promise<void> {
  for (;;) {
    const buffer = Buffer.allocUnsafe(followed.chunkBytes);
    const { bytesRead } = await current.read(buffer, 0, followed.chunkBytes, followed.offset);
    if (bytesRead === 0) return;
    followed.offset += bytesRead;
    followed.lines.feed(buffer.subarray(0, bytesRead));
  }
}

async function openCurrent(followed: Followed): Promise<FileHandle> {
  const opened = await open(followed.options.file, 'r');
  // The inode of what was actually opened, not of what stat saw a moment earlier.
  followed.ino = (await opened.stat()).ino;
  followed.handle = opened;
  followed.offset = 0;
  return opened;
}

/** Finishes the old file through the still-open handle (lines written before the rename), then lets go. */
async function retire(followed: Followed, current: FileHandle): Promise<void> {
  await drain(followed, current);
  followed.lines.dropPartialLine();
  await current.close();
  followed.handle = null;
}

async function poll(followed: Followed): Promise<void> {
  const info = await statOrNull(followed.options.file);
  let current = followed.handle;
  if (current !== null && info === null) {
    // Renamed away, the new file not there yet: keep reading the old one, the writer may still append.
    await drain(followed, current);
    return;
  }
  if (info === null) return;
  if (current !== null && info.ino !== followed.ino) {
    await retire(followed, current);
    current = null;
    followed.options.onReset('rotated');
  } else if (current !== null && info.size < followed.offset) {
    // copytruncate-style rotation: whatever was written between our last read and the truncation is lost.
    followed.offset = 0;
    followed.lines.dropPartialLine();
    followed.options.onReset('truncated');
  }
  await drain(followed, current ?? (await openCurrent(followed)));
}
