/**
 * Counts the task functions running in this process, and tells when none is. A worker pool that shuts down
 * forcefully gives its running jobs back to the queue while their functions go on (graphile-worker cannot cancel
 * them); superviseRunner waits for them before a new runner may take those jobs.
 */
export interface TaskTracker {
  /** Runs `fn` as one counted task. */
  track<T>(fn: () => Promise<T>): Promise<T>;
  /** Resolves when no tracked task is running. */
  idle(): Promise<void>;
  running(): number;
}

export function makeTaskTracker(): TaskTracker {
  let running = 0;
  let waiters: Array<() => void> = [];
  return {
    track: async (fn) => {
      running += 1;
      try {
        return await fn();
      } finally {
        running -= 1;
        if (running === 0) {
          const ready = waiters;
          waiters = [];
          for (const resolve of ready) resolve();
        }
      }
    },
    idle: () => (running === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
    running: () => running,
  };
}
