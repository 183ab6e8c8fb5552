// Cuts a byte stream into lines on raw newline bytes (so a multi-byte character split between two reads
// is decoded whole), holding a partial last line until its newline arrives and dropping oversized lines.
export type SkipReason = 'oversized-line' | 'partial-line-at-rotation';

export interface LineSplitter {
  feed(chunk: Buffer): void;
  /** The stream ended mid-line (rotation, truncation): the partial line is reported and dropped. */
  dropPartialLine(): void;
}

const NEWLINE = 0x0a;

export function createLineSplitter(options: { maxLineBytes: number; onLine: (line: string) => void; onSkip: (reason: SkipReason) => void }): LineSplitter {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  /** Inside an oversized line: drop bytes until its newline. */
  let discarding = false;
  const reset = (): void => {
    pending = [];
    pendingBytes = 0;
  };

  function emit(piece: Buffer): void {
    if (discarding) discarding = false;
    else if (pendingBytes + piece.length > options.maxLineBytes) options.onSkip('oversized-line');
    else options.onLine(Buffer.concat([...pending, piece]).toString('utf8'));
    reset();
  }

  function hold(rest: Buffer): void {
    if (discarding || rest.length === 0) return;
    if (pendingBytes + rest.length > options.maxLineBytes) {
      discarding = true;
      reset();
      options.onSkip('oversized-line');
      return;
    }
    pending.push(Buffer.from(rest));
    pendingBytes += rest.length;
  }

  return {
    feed(chunk) {
      let start = 0;
      for (let at = chunk.indexOf(NEWLINE, start); at !== -1; at = chunk.indexOf(NEWLINE, start)) {
        emit(chunk.subarray(start, at));
        start = at + 1;
      }
      hold(chunk.subarray(start));
    },
    dropPartialLine() {
      if (pendingBytes > 0) options.onSkip('partial-line-at-rotation');
      reset();
      discarding = false;
    },
  };
}
