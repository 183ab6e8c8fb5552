// Runs async tasks one at a time in arrival order: the file-backed stores use it so a check, its
// append+fsync and the in-memory update happen as one step (that is what makes markFirstUse atomic).

export interface SerialQueue {
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Resolves once every task queued so far has settled. */
  idle(): Promise<void>;
}

export function createSerialQueue(): SerialQueue {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run<T>(task: () => Promise<T>): Promise<T> {
      const result = tail.then(task, task);
      // The chain must survive a failed task; the caller still sees the rejection through `result`.
      tail = result.catch(() => undefined);
      return result;
    },
    async idle(): Promise<void> {
      await tail;
    },
  };
}
