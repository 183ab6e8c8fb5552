// Follows a growing JSON-lines file the way `tail -F` does: reads from the last offset on each poll,
// holds a partial last line until its newline arrives, and survives rotation and truncation.
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

export type SkipReason = 'oversized-line' | 'partial-line-at-rotation';

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

const NEWLINE = 0x0a;

async function statOrNull(file: string): Promise<{ ino: number; size: number } | null> {
  try {
    return await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export function createLineFollower(options: LineFollowerOptions): LineFollower {
  const chunkBytes = options.readChunkBytes ?? 64 * 1024;
  let handle: FileHandle | null = null;
  let ino = -1;
  let offset = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  /** Inside an oversized line: drop bytes until its newline. */
  let discarding = false;

  function emit(piece: Buffer): void {
    if (discarding) discarding = false;
    else if (pendingBytes + piece.length > options.maxLineBytes) options.onSkip('oversized-line');
    else options.onLine(Buffer.concat([...pending, piece]).toString('utf8'));
    pending = [];
    pendingBytes = 0;
  }

  /** Splits on raw newline bytes, so a multi-byte character cut between two reads is decoded whole. */
  function feed(chunk: Buffer): void {
    let start = 0;
    for (let at = chunk.indexOf(NEWLINE, start); at !== -1; at = chunk.indexOf(NEWLINE, start)) {
      emit(chunk.subarray(start, at));
      start = at + 1;
    }
    const rest = chunk.subarray(start);
    if (discarding || rest.length === 0) return;
    if (pendingBytes + rest.length > options.maxLineBytes) {
      discarding = true;
      pending = [];
      pendingBytes = 0;
      options.onSkip('oversized-line');
      return;
    }
    pending.push(Buffer.from(rest));
    pendingBytes += rest.length;
  }

  function dropPartialLine(): void {
    if (pendingBytes > 0) options.onSkip('partial-line-at-rotation');
    pending = [];
    pendingBytes = 0;
    discarding = false;
  }

  /** Reads from `offset` to the current end of the open file. */
  async function drain(current: FileHandle): Promise<void> {
    for (;;) {
      const buffer = Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await current.read(buffer, 0, chunkBytes, offset);
      if (bytesRead === 0) return;
      offset += bytesRead;
      feed(buffer.subarray(0, bytesRead));
    }
  }

  async function openCurrent(): Promise<FileHandle> {
    const opened = await open(options.file, 'r');
    // The inode of what was actually opened, not of what stat saw a moment earlier.
    ino = (await opened.stat()).ino;
    handle = opened;
    offset = 0;
    return opened;
  }

  /** Finishes the old file through the still-open handle (lines written before the rename), then lets go. */
  async function retire(current: FileHandle): Promise<void> {
    await drain(current);
    dropPartialLine();
    await current.close();
    handle = null;
  }

  async function poll(): Promise<void> {
    const info = await statOrNull(options.file);
    let current = handle;
    if (current !== null && info === null) {
      // Renamed away, the new file not there yet: keep reading the old one, the writer may still append.
      await drain(current);
      return;
    }
    if (info === null) return;
    if (current !== null && info.ino !== ino) {
      await retire(current);
      current = null;
      options.onReset('rotated');
    } else if (current !== null && info.size < offset) {
      // copytruncate-style rotation: whatever was written between our last read and the truncation is lost.
      offset = 0;
      dropPartialLine();
      options.onReset('truncated');
    }
    await drain(current ?? (await openCurrent()));
  }

  async function close(): Promise<void> {
    const current = handle;
    handle = null;
    await current?.close();
  }

  return { poll, close };
}
